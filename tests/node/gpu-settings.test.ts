/**
 * gpu/modal_app.py must agree with shared/constants.ts, and its GPU_PROFILES with the performance
 * model of gpu/sim/perf (the KV arithmetic the simulator and `npm run plan` use). The Modal SDK and
 * vLLM are not installed here, so the file is only compiled, its module-level constants are read
 * with Python's `ast`, and its code is run with a stub `modal` module that records every
 * decorator/builder call. Its HTTP helpers (following a chain of 303s, the vLLM watchdog) run
 * against a local Python HTTP server and fake processes. The simulators that stand in for the
 * deployment (`npm run sim`, `npm run dev`) stream at its `--stream-interval`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
  VLLM_STREAM_INTERVAL,
} from "../../shared/constants";
import { simOptionsFromEnv } from "../../gpu/sim/node-server";
import { kvCapacityTokens, modalSettings } from "../../gpu/sim/perf/arithmetic";
import { GPU_PROFILES as PERF_PROFILES, GPU_PROFILE_NAMES } from "../../gpu/sim/perf/profiles";

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

/** Loads the app as `g` with a recording stub for `modal` (and `modal.experimental`); records calls in `calls`. */
const STUB_PRELUDE = String.raw`
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
experimental = types.ModuleType("modal.experimental")
experimental.__getattr__ = lambda name: Stub("modal.experimental." + name)
sys.modules["modal.experimental"] = experimental
stub.experimental = experimental
g = runpy.run_path(sys.argv[1], run_name="modal_app")
`;

/** Imports the app with the stub; prints the calls and each vllm_command. */
const RUN_WITH_STUB = String.raw`${STUB_PRELUDE}
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

    it("uses the same context length, choice limit, proxy headers, system prompt and stream interval", () => {
      expect(c.MAX_MODEL_LEN).toBe(MAX_MODEL_LEN_TOKENS);
      expect(c.STREAM_INTERVAL).toBe(VLLM_STREAM_INTERVAL);
      expect(c.MAX_CHOICES_N).toBe(MAX_CHOICES_N);
      expect(c.PROXY_AUTH_HEADERS).toEqual([MODAL_KEY_HEADER, MODAL_SECRET_HEADER]);
      expect(c.SYSTEM_PROMPT).toBe(LIMO_SYSTEM_PROMPT);
    });

    it("GPU_PROFILES are what the performance model derives: KV tokens, max_num_seqs, max_inputs, target_inputs", () => {
      const profiles = c.GPU_PROFILES as Record<string, Record<string, unknown>>;
      expect(Object.keys(profiles).sort()).toEqual([...GPU_PROFILE_NAMES].sort());
      for (const name of GPU_PROFILE_NAMES) {
        const perf = PERF_PROFILES[name];
        const derived = modalSettings(perf);
        expect(profiles[name], name).toEqual({
          gpu: derived.gpu,
          quantization: derived.quantization,
          kv_cache_dtype: derived.kvCacheDtype,
          gpu_memory_utilization: derived.gpuMemoryUtilization,
          kv_cache_tokens: kvCapacityTokens(perf),
          max_num_seqs: derived.maxNumSeqs,
          max_inputs: derived.maxInputs,
          target_inputs: derived.targetInputs,
        });
      }
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
        expect(flagValue(argv, "--stream-interval"), m.id).toBe(String(VLLM_STREAM_INTERVAL));
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
      const h200 = modalSettings(PERF_PROFILES["h200-bf16"]);
      for (const k of callsTo(run, "modal.concurrent")) {
        expect(k.kwargs).toEqual({ max_inputs: h200.maxInputs, target_inputs: h200.targetInputs });
      }
      for (const argv of Object.values(run.commands)) {
        // As many sequences as fit at full length: 7, not max_inputs x MAX_CHOICES_N (64) that would thrash.
        expect(flagValue(argv, "--max-num-seqs")).toBe(String(h200.maxNumSeqs));
        expect(flagValue(argv, "--gpu-memory-utilization")).toBe("0.9");
        expect(argv).not.toContain("--enable-sleep-mode");
      }
      expect(h200.maxNumSeqs).toBeLessThan(MAX_CHOICES_N * h200.maxInputs);
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
      const h100 = modalSettings(PERF_PROFILES["h100-fp8"]);
      for (const k of callsTo(run, "modal.concurrent")) expect(k.kwargs).toEqual({ max_inputs: h100.maxInputs, target_inputs: h100.targetInputs });
      for (const argv of Object.values(run.commands)) expect(flagValue(argv, "--max-num-seqs")).toBe(String(h100.maxNumSeqs));
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
        // target_inputs stays the profile's (5) below the raised max_inputs.
        expect(k.kwargs).toEqual({ max_inputs: 6, target_inputs: 5 });
      }
      expect(run.commands.limo).toContain("--enforce-eager");
    });

    it("bakes the startup timeout into the image, so the container waits for vLLM as long as web_server does", () => {
      const run = runWithStub({ LIMO_STARTUP_MINUTES: "45" });
      const env = Object.assign({}, ...callsTo(run, ".env").map((c) => c.args[0])) as Record<string, string>;
      expect(env.LIMO_STARTUP_MINUTES).toBe("45");
      for (const s of callsTo(run, "modal.web_server")) expect(s.kwargs.startup_timeout).toBe(45 * 60);
      // In the container, the deploy shell's variables are gone: only the image's env remains.
      const inContainer = runWithStub({ ...env });
      expect(callsTo(inContainer, "modal.web_server").map((s) => s.kwargs.startup_timeout)).toEqual([45 * 60, 45 * 60]);
    });

    it("LIMO_GPU_SNAPSHOT=1 snapshots CPU and GPU memory with vLLM asleep, as Modal's low-latency example does", () => {
      const run = runWithStub({ LIMO_GPU_SNAPSHOT: "1" });
      const classes = callsTo(run, ".cls");
      expect(classes).toHaveLength(MODEL_CATALOGUE.length);
      for (const cls of classes) {
        expect(cls.kwargs).toMatchObject({ gpu: "H200", enable_memory_snapshot: true, experimental_options: { enable_gpu_snapshot: true } });
      }
      expect(callsTo(run, ".function").filter((c) => "gpu" in c.kwargs)).toHaveLength(0);
      expect(callsTo(run, "modal.enter").map((e) => e.kwargs.snap)).toEqual([true, false, true, false]);
      expect(callsTo(run, "modal.web_server").map((s) => s.kwargs.label).sort()).toEqual(["limo-serve", "limo-v2-serve"]);
      for (const argv of Object.values(run.commands)) expect(argv).toContain("--enable-sleep-mode");
      const env = Object.assign({}, ...callsTo(run, ".env").map((c) => c.args[0])) as Record<string, string>;
      expect(env).toMatchObject({ LIMO_GPU_SNAPSHOT: "1", VLLM_SERVER_DEV_MODE: "1" });
    });

    it("rejects an unknown GPU profile at deploy time", () => {
      const r = python(RUN_WITH_STUB, [APP], { LIMO_GPU_PROFILE: "a10g" });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("LIMO_GPU_PROFILE must be one of");
    });
  });

  describe("runtime helpers", () => {
    /** A local server: POST answers 303 to a result URL, which answers 303 `hops` times and then 200. */
    const REDIRECT_SERVER = String.raw`${STUB_PRELUDE}
import http.server, threading, time, urllib.error, urllib.request
hops = int(sys.argv[2])
seen = []
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen.append([self.command, self.path, len(body), self.headers.get("Modal-Key")])
        if self.command == "POST":
            self.send_response(303); self.send_header("Location", "/v1/chat/completions?__modal_function_call_id=fc-1"); self.end_headers(); return
        if len([s for s in seen if s[0] == "GET"]) <= hops:
            self.send_response(303); self.send_header("Location", "/v1/chat/completions?__modal_function_call_id=fc-1"); self.end_headers(); return
        self.send_response(200); self.send_header("Content-Type", "text/event-stream"); self.end_headers()
        self.wfile.write(b"data: [DONE]\n\n")
    do_GET = do_POST = answer
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = "http://127.0.0.1:%d/v1/chat/completions" % server.server_address[1]
def request():
    return urllib.request.Request(url, data=b'{"stream":true}', method="POST", headers={"Modal-Key": "wk-1", "Content-Type": "application/json"})
out = {}
try:
    urllib.request.urlopen(request(), timeout=10).read()
    out["urllib"] = "ok"
except urllib.error.HTTPError as err:
    out["urllib"] = err.code
seen.clear()
with g["_open_following_redirects"](request(), time.monotonic() + 30) as response:
    out["status"] = response.status
    out["body"] = response.read().decode()
out["seen"] = seen
server.shutdown()
print(json.dumps(out))
`;

    it("smoke() survives a first boot longer than four 303s, re-asking with GET and the auth headers", () => {
      const r = python(REDIRECT_SERVER, [APP, "6"]);
      expect(r.stderr).toBe("");
      const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { urllib: unknown; status: number; body: string; seen: [string, string, number, string][] };
      // Plain urllib gives up after 4 redirects to one URL (a 10-minute boot at 150 s a hop).
      expect(out.urllib).toBe(303);
      expect(out.status).toBe(200);
      expect(out.body).toBe("data: [DONE]\n\n");
      expect(out.seen[0]).toEqual(["POST", "/v1/chat/completions", 15, "wk-1"]);
      expect(out.seen.slice(1)).toEqual(Array.from({ length: 7 }, () => ["GET", "/v1/chat/completions?__modal_function_call_id=fc-1", 0, "wk-1"]));
    });

    const WATCHDOG = String.raw`${STUB_PRELUDE}
events = []
class Process:
    returncode = None
    polls = 0
    def poll(self):
        self.polls += 1
        if self.polls >= 3: self.returncode = 137
        return self.returncode
g["_watch"](Process(), poll_seconds=0, grace_seconds=0, stop=lambda: events.append("stop"), exit_process=lambda code: events.append(["exit", code]), sleep=lambda s: events.append(["sleep", s]))
g["_stop_fetching_inputs"]()
print(json.dumps({"events": events, "calls": [c["call"] for c in calls]}))
`;

    it("the watchdog stops the container taking requests once vLLM dies, then exits", () => {
      const r = python(WATCHDOG, [APP]);
      expect(r.stderr).toBe("");
      const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { events: unknown[]; calls: string[] };
      expect(out.events).toEqual([["sleep", 0], ["sleep", 0], "stop", ["sleep", 0], ["exit", 1]]);
      expect(r.stdout).toContain("vllm serve exited with code 137");
      expect(out.calls).toContain("modal.experimental.stop_fetching_inputs");
    });
  });

  describe("the simulators that stand in for it", () => {
    it("npm run sim and npm run dev stream at the deployed --stream-interval unless SIM_STREAM_INTERVAL says otherwise", () => {
      expect(simOptionsFromEnv({}, { asDeployed: true }).defaults?.stream_interval).toBe(VLLM_STREAM_INTERVAL);
      expect(simOptionsFromEnv({ SIM_STREAM_INTERVAL: "3" }, { asDeployed: true }).defaults?.stream_interval).toBe(3);
      expect(simOptionsFromEnv({ SIM_STREAM_INTERVAL: "1" }).defaults?.stream_interval).toBe(1);
      // Other callers (the tests' global setup, the benchmarks) keep vLLM's own default.
      expect(simOptionsFromEnv({}).defaults).toEqual({});
      for (const bad of ["0", "2.5", "-8", "eight"]) {
        expect(() => simOptionsFromEnv({ SIM_STREAM_INTERVAL: bad }, { asDeployed: true }), bad).toThrow(/SIM_STREAM_INTERVAL/);
      }
      for (const file of ["gpu/sim/node-server.ts", "scripts/dev.ts"]) {
        expect(readFileSync(join(REPO, file), "utf8"), file).toMatch(/simOptionsFromEnv\((process\.env|simEnv), \{ asDeployed: true \}\)/);
      }
    });
  });
});
