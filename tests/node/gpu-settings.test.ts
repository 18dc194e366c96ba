/**
 * gpu/modal_app.py must agree with shared/constants.ts. The Modal SDK and vLLM are not installed
 * here, so the file is only compiled, its module-level constants are read with Python's `ast`, and
 * its code is run with a stub `modal` module that records every decorator/builder call.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LIMO_SYSTEM_PROMPT,
  MAX_CHOICES_N,
  MAX_MODEL_LEN_TOKENS,
  MODAL_KEY_HEADER,
  MODAL_SECRET_HEADER,
  MODEL_CATALOGUE,
} from "../../shared/constants";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const APP = "gpu/modal_app.py";
const tmp = mkdtempSync(join(tmpdir(), "gpu-settings-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `python3 -c script args...` in the repo with no LIMO_* variables but `env`. */
function python(script: string, args: string[] = [], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("LIMO_")),
  );
  return spawnSync("python3", ["-c", script, ...args], {
    cwd: REPO,
    env: { ...clean, ...env, PYTHONDONTWRITEBYTECODE: "1" },
    encoding: "utf8",
  });
}

/** Module-level UPPER_SNAKE assignments whose value is a literal (ast.literal_eval). */
const READ_CONSTANTS = String.raw`
import ast, json, re, sys
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
out = {}
for node in tree.body:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        name = node.targets[0].id
        if re.fullmatch("[A-Z][A-Z0-9_]*", name):
            try:
                out[name] = ast.literal_eval(node.value)
            except ValueError:
                pass
print(json.dumps(out))
`;

/** Imports the app with a recording stub for `modal`; prints the calls and each vllm_command. */
const RUN_WITH_STUB = String.raw`
import json, runpy, sys, types
calls = []
def plain(v):
    if isinstance(v, Stub): return {"stub": v._path}
    if isinstance(v, dict): return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)): return [plain(x) for x in v]
    return v
class Stub:
    def __init__(self, path): self._path = path
    def __getattr__(self, name): return Stub(self._path + "." + name)
    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], Stub):
            return args[0]  # applying a decorator: keep the plain function
        calls.append({"call": self._path, "args": plain(list(args)), "kwargs": plain(kwargs)})
        return Stub(self._path + "()")
stub = types.ModuleType("modal")
stub.__getattr__ = lambda name: Stub("modal." + name)
sys.modules["modal"] = stub
g = runpy.run_path(sys.argv[1], run_name="modal_app")
commands = {key: g["vllm_command"](key) for key in g["MODELS"]}
print(json.dumps({"calls": calls, "commands": commands}))
`;

interface Call {
  call: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}
interface StubRun {
  calls: Call[];
  commands: Record<string, string[]>;
}

function runWithStub(env: Record<string, string> = {}): StubRun {
  const r = python(RUN_WITH_STUB, [APP], env);
  expect(r.stderr, "python stderr").toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as StubRun;
}
const callsTo = (run: StubRun, suffix: string) => run.calls.filter((c) => c.call.endsWith(suffix));
/** The value following `flag` in argv (undefined when the flag is absent or last). */
const flagValue = (argv: string[], flag: string) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
};

interface ModelSpec {
  hf_repo: string;
  served_name: string;
  revision: string | null;
  label: string;
}

describe("gpu/modal_app.py", () => {
  it("compiles with python3 (bytecode written to a temp dir, not the repo)", () => {
    const r = python(
      "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
      [APP, join(tmp, "modal_app.pyc")],
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  describe("constants agree with shared/constants.ts", () => {
    let c: Record<string, unknown> = {};
    beforeAll(() => {
      const r = python(READ_CONSTANTS, [APP]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      c = JSON.parse(r.stdout) as Record<string, unknown>;
    });

    it("serves exactly the catalogue's models under their servedName", () => {
      const models = c.MODELS as Record<string, ModelSpec>;
      expect(Object.keys(models).sort()).toEqual(MODEL_CATALOGUE.map((m) => m.id).sort());
      for (const m of MODEL_CATALOGUE) {
        expect(models[m.id]?.served_name, m.id).toBe(m.servedName);
        expect(models[m.id]?.hf_repo, m.id).toBe(m.servedName);
      }
      const labels = Object.values(models).map((m) => m.label);
      expect(new Set(labels).size).toBe(labels.length);
    });

    it("uses the same context length, choice limit, proxy headers and system prompt", () => {
      expect(c.MAX_MODEL_LEN).toBe(MAX_MODEL_LEN_TOKENS);
      expect(c.MAX_CHOICES_N).toBe(MAX_CHOICES_N);
      expect(c.PROXY_AUTH_HEADERS).toEqual([MODAL_KEY_HEADER, MODAL_SECRET_HEADER]);
      expect(c.SYSTEM_PROMPT).toBe(LIMO_SYSTEM_PROMPT);
    });

    it("defaults scale to zero, cap spend, and outlast an 18-minute answer", () => {
      const d = c.DEFAULTS as Record<string, number | string | null>;
      expect(d.LIMO_GPU_PROFILE).toBe("h200-bf16");
      expect(d.LIMO_MIN_CONTAINERS).toBe(0);
      expect(d.LIMO_MAX_CONTAINERS).toBeGreaterThanOrEqual(1);
      expect(d.LIMO_SCALEDOWN_MINUTES).toBe(15);
      expect(d.LIMO_TIMEOUT_MINUTES).toBeGreaterThanOrEqual(30);
      expect(d.LIMO_STARTUP_MINUTES).toBeGreaterThanOrEqual(20);
    });
  });

  describe("default deployment (H200, BF16)", () => {
    let run: StubRun;
    beforeAll(() => {
      run = runWithStub();
    });

    it("builds a vllm serve command per model with the agreed flags", () => {
      for (const m of MODEL_CATALOGUE) {
        const argv = run.commands[m.id] ?? [];
        expect(argv.slice(0, 3), m.id).toEqual(["vllm", "serve", m.servedName]);
        expect(flagValue(argv, "--served-model-name"), m.id).toBe(m.servedName);
        expect(flagValue(argv, "--max-model-len"), m.id).toBe(String(MAX_MODEL_LEN_TOKENS));
        expect(flagValue(argv, "--port"), m.id).toBe("8000");
        expect(flagValue(argv, "--generation-config"), m.id).toBe("vllm");
        expect(argv, m.id).toContain("--enable-prefix-caching");
        expect(argv, m.id).not.toContain("--quantization");
        expect(argv, m.id).not.toContain("--api-key"); // the key stays in the environment
      }
    });

    it("declares GPU functions with proxy auth, long timeouts and scale-to-zero", () => {
      const gpuFns = callsTo(run, ".function").filter((c) => "gpu" in c.kwargs);
      expect(gpuFns).toHaveLength(MODEL_CATALOGUE.length);
      for (const f of gpuFns) {
        expect(f.kwargs).toMatchObject({
          gpu: "H200",
          min_containers: 0,
          max_containers: 4,
          scaledown_window: 15 * 60,
          secrets: [],
        });
        expect(f.kwargs.timeout).toBeGreaterThanOrEqual(30 * 60);
      }
      const servers = callsTo(run, "modal.web_server");
      expect(servers.map((s) => s.kwargs.label).sort()).toEqual(["limo-serve", "limo-v2-serve"]);
      for (const s of servers) {
        expect(s.kwargs).toMatchObject({ port: 8000, requires_proxy_auth: true });
        expect(s.kwargs.startup_timeout).toBeGreaterThanOrEqual(20 * 60);
      }
      for (const k of callsTo(run, "modal.concurrent")) {
        expect(k.kwargs).toEqual({ max_inputs: 8, target_inputs: 6 });
      }
      expect(run.commands.limo && flagValue(run.commands.limo, "--max-num-seqs")).toBe(
        String(8 * MAX_CHOICES_N),
      );
    });

    it("pins vllm and mounts the weights and compile caches as Volumes", () => {
      const installs = callsTo(run, ".uv_pip_install").flatMap((c) => c.args as string[]);
      expect(installs.some((p) => /^vllm==\d+\.\d+\.\d+$/.test(p))).toBe(true);
      const volumes = callsTo(run, "modal.Volume.from_name");
      expect(volumes.map((v) => v.args[0])).toHaveLength(2);
      for (const v of volumes) expect(v.kwargs).toEqual({ create_if_missing: true });
    });
  });

  describe("switches", () => {
    it("LIMO_GPU_PROFILE=h100-fp8 puts FP8 weights on an H100 and bakes the profile into the image", () => {
      const run = runWithStub({ LIMO_GPU_PROFILE: "h100-fp8" });
      for (const argv of Object.values(run.commands)) {
        expect(flagValue(argv, "--quantization")).toBe("fp8");
      }
      for (const f of callsTo(run, ".function").filter((c) => "gpu" in c.kwargs)) {
        expect(f.kwargs.gpu).toBe("H100");
      }
      for (const k of callsTo(run, "modal.concurrent")) expect(k.kwargs.max_inputs).toBe(4);
      const env = Object.assign({}, ...callsTo(run, ".env").map((c) => c.args[0])) as Record<string, string>;
      expect(env.LIMO_GPU_PROFILE).toBe("h100-fp8");
    });

    it("scaling knobs and the optional vLLM API key secret come from the deploy environment", () => {
      const run = runWithStub({
        LIMO_MIN_CONTAINERS: "1",
        LIMO_MAX_CONTAINERS: "2",
        LIMO_SCALEDOWN_MINUTES: "5",
        LIMO_MAX_INPUTS: "6",
        LIMO_VLLM_SECRET: "limo-vllm-key",
        LIMO_FAST_BOOT: "1",
      });
      for (const f of callsTo(run, ".function").filter((c) => "gpu" in c.kwargs)) {
        expect(f.kwargs).toMatchObject({ min_containers: 1, max_containers: 2, scaledown_window: 300 });
        expect(f.kwargs.secrets).toHaveLength(1);
      }
      const secret = callsTo(run, "modal.Secret.from_name")[0];
      expect(secret?.args).toEqual(["limo-vllm-key"]);
      expect(secret?.kwargs).toEqual({ required_keys: ["VLLM_API_KEY"] });
      for (const k of callsTo(run, "modal.concurrent")) {
        expect(k.kwargs).toEqual({ max_inputs: 6, target_inputs: 6 });
      }
      expect(run.commands.limo).toContain("--enforce-eager");
    });

    it("rejects an unknown GPU profile at deploy time", () => {
      const r = python(RUN_WITH_STUB, [APP], { LIMO_GPU_PROFILE: "a10g" });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("LIMO_GPU_PROFILE must be one of");
    });
  });
});
