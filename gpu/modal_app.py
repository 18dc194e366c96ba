"""LIMO on Modal: vLLM's OpenAI-compatible server behind Modal proxy auth.

Deploy (needs `pip install modal` and `modal setup` once):

    modal deploy gpu/modal_app.py                      # H200, BF16 weights
    LIMO_GPU_PROFILE=h100-fp8 modal deploy gpu/modal_app.py   # H100, FP8 weights
    modal run gpu/modal_app.py::download --model limo  # optional: fill the weights Volume first

Each model in MODELS is its own web function, `https://<workspace>--<label>.modal.run`
(the exact URL is printed by `modal deploy`). Both require proxy auth:
  1. Modal dashboard -> Settings -> Proxy Auth Tokens -> create a token (`wk-...` / `ws-...`).
  2. Give it to the Worker: `wrangler secret put MODAL_KEY` (token id) and
     `wrangler secret put MODAL_SECRET` (token secret); it sends them as Modal-Key/Modal-Secret.
  3. Point the Worker at the endpoint with its BACKENDS var, e.g.
     [{"name":"modal-h200","url":"https://<workspace>--limo-serve.modal.run","models":["GAIR/LIMO"],"weight":1}]
Optional defence in depth: `modal secret create limo-vllm-key VLLM_API_KEY=<random>`, deploy with
LIMO_VLLM_SECRET=limo-vllm-key, and let the Worker also send `Authorization: Bearer <VLLM_API_KEY>`.

The UPPER_SNAKE literals below must agree with shared/constants.ts, and GPU_PROFILES with the
performance model in gpu/sim/perf (the same KV arithmetic the simulator and `npm run plan` use);
tests/node/gpu-settings.test.ts reads them with Python's `ast` and fails when they drift. See
gpu/README.md for every LIMO_* knob.

Sources followed (as of this writing):
  - modal-labs/modal-examples 06_gpu_and_ml/llm-serving/vllm_inference.py and gpt_oss_inference.py
    (CUDA devel image + uv_pip_install, HF/vLLM cache Volumes, @modal.concurrent, @modal.web_server,
    subprocess `vllm serve`), https://modal.com/docs/examples/llm_inference
  - https://modal.com/docs/reference/modal.web_server.md (port, startup_timeout, label, requires_proxy_auth)
  - https://modal.com/docs/guide/webhook-proxy-auth.md, https://modal.com/docs/reference/modal.concurrent.md,
    https://modal.com/docs/guide/scale (min/max_containers, scaledown_window), https://modal.com/docs/guide/timeouts
  - https://modal.com/docs/guide/webhook-timeouts (150 s cut, 303 to a result URL; urllib follows at most 4)
  - modal-labs/modal-examples 06_gpu_and_ml/llm-serving/vllm_low_latency.py and lfm_snapshot.py (GPU memory
    snapshots: enable_memory_snapshot, experimental_options={"enable_gpu_snapshot": True}, vLLM sleep mode,
    @modal.enter(snap=True/False)); modal.experimental.stop_fetching_inputs (modal-client)
  - vLLM engine/serve args (https://docs.vllm.ai/en/stable/configuration/engine_args/): --served-model-name,
    --max-model-len, --enable-prefix-caching, --gpu-memory-utilization, --max-num-seqs, --quantization fp8,
    --generation-config vllm, --stream-interval (SchedulerConfig.stream_interval), --uvicorn-log-level,
    --disable-uvicorn-access-log; request logging is off by default since vllm-project/vllm#21739
    (--disable-log-requests is deprecated); the API key is read from
    VLLM_API_KEY and guards /v1/* only (https://docs.vllm.ai/en/v0.22.1/usage/security/).
"""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import modal

# ---- Must agree with shared/constants.ts (checked by tests/node/gpu-settings.test.ts) ----
# Key = public id (MODEL_CATALOGUE.id); served_name = MODEL_CATALOGUE.servedName = --served-model-name.
# revision: pin a commit sha from huggingface.co/<hf_repo>/commits before production (None = main).
MODELS = {
    "limo": {"hf_repo": "GAIR/LIMO", "served_name": "GAIR/LIMO", "revision": None, "label": "limo-serve"},
    "limo-v2": {"hf_repo": "GAIR/LIMO-v2", "served_name": "GAIR/LIMO-v2", "revision": None, "label": "limo-v2-serve"},
}
MAX_MODEL_LEN = 32768  # MAX_MODEL_LEN_TOKENS: Qwen2.5-32B context, no rope scaling
MAX_CHOICES_N = 8  # MAX_CHOICES_N: each request may carry up to n sequences
PROXY_AUTH_HEADERS = ("Modal-Key", "Modal-Secret")  # MODAL_KEY_HEADER, MODAL_SECRET_HEADER
SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."  # LIMO_SYSTEM_PROMPT
VLLM_PORT = 8000
STREAM_INTERVAL = 8  # VLLM_STREAM_INTERVAL: tokens per SSE chunk after the first (vLLM's default is 1)

# ---- Image and caches -------------------------------------------------------------------
APP_NAME = "limo"
VLLM_VERSION = "0.21.0"  # pinned; bump deliberately and redeploy (flags below are checked against it)
CUDA_IMAGE = "nvidia/cuda:12.9.0-devel-ubuntu22.04"  # devel: flashinfer JIT-compiles kernels with nvcc
HF_CACHE_PATH = "/root/.cache/huggingface"
VLLM_CACHE_PATH = "/root/.cache/vllm"  # torch.compile / CUDA-graph artifacts, reused across cold starts
MINUTES = 60  # seconds

# ---- GPU profiles: must agree with gpu/sim/perf (checked by tests/node/gpu-settings.test.ts) -----
# LIMO = Qwen2.5-32B: 64 layers x 8 KV heads x 128 dims -> KV = 64 x 8 x 128 x 2 (K, V) x 2 bytes = 256 KiB a
# token, 8 GiB a full 32,768-token sequence. KV room = gpu_memory_utilization x GPU memory - weights - ~4 GiB
# (activation peak, CUDA graphs, sampler, workspaces); derivation in gpu/sim/perf/profiles.md:
#   H200 (143,771 MiB), BF16 weights 61 GiB:   0.90 x 140.4 - 61 - 4   = 61.4 GiB -> 251,328 tokens -> 7 full sequences
#   H100 ( 81,559 MiB), FP8 weights 30.5 GiB:  0.90 x 79.6 - 30.5 - 5.5 = 35.7 GiB -> 146,144 tokens -> 4 full sequences
#   (H100 with BF16 weights: 0.90 x 79.6 - 61 < 8 GiB: less than one full sequence, not offered.)
# max_num_seqs = the full sequences that fit, so no running sequence is ever preempted for KV.
# max_inputs counts `n` as sequences: max_num_seqs / 1 sequence per request (a request with n > 1 puts its extra
# choices in vLLM's own queue, which /metrics shows, rather than in Modal's, which it does not).
# target_inputs = floor(0.75 x max_inputs): Modal boots the next container while this one still has room.
GPU_PROFILES = {
    "h200-bf16": {"gpu": "H200", "quantization": None, "kv_cache_dtype": None, "gpu_memory_utilization": 0.90,
                  "kv_cache_tokens": 251328, "max_num_seqs": 7, "max_inputs": 7, "target_inputs": 5},
    "h100-fp8": {"gpu": "H100", "quantization": "fp8", "kv_cache_dtype": None, "gpu_memory_utilization": 0.90,
                 "kv_cache_tokens": 146144, "max_num_seqs": 4, "max_inputs": 4, "target_inputs": 3},
}

# ---- Deploy-time knobs (environment of `modal deploy`; defaults here) -----------------------
DEFAULTS = {
    "LIMO_GPU_PROFILE": "h200-bf16",
    "LIMO_MIN_CONTAINERS": 0,  # 0 = scale to zero (cold start on the first request)
    "LIMO_MAX_CONTAINERS": 4,  # per model: caps spend
    "LIMO_SCALEDOWN_MINUTES": 15,  # idle time before a container stops
    "LIMO_MAX_INPUTS": None,  # None = the profile's max_inputs
    "LIMO_TARGET_INPUTS": None,  # None = the profile's target_inputs
    "LIMO_TIMEOUT_MINUTES": 60,  # per request (and container start); answers take up to ~18 min
    "LIMO_STARTUP_MINUTES": 30,  # cold boot: weights download/load + compile + CUDA graphs
    "LIMO_FAST_BOOT": 0,  # 1 = --enforce-eager: faster boot, slower decoding
    "LIMO_GPU_SNAPSHOT": 0,  # 1 = boot from a CPU + GPU memory snapshot (vLLM sleep mode): seconds, not minutes
    "LIMO_VLLM_SECRET": "",  # name of a modal.Secret holding VLLM_API_KEY ("" = none)
}


def _setting(name: str):
    raw = os.environ.get(name, "").strip()
    default = DEFAULTS[name]
    if not raw:
        return default
    return raw if isinstance(default, str) else int(raw)


GPU_PROFILE = _setting("LIMO_GPU_PROFILE")
if GPU_PROFILE not in GPU_PROFILES:
    raise ValueError(f"LIMO_GPU_PROFILE must be one of {sorted(GPU_PROFILES)}, got {GPU_PROFILE!r}")
PROFILE = GPU_PROFILES[GPU_PROFILE]
MAX_INPUTS = _setting("LIMO_MAX_INPUTS") or PROFILE["max_inputs"]
TARGET_INPUTS = min(_setting("LIMO_TARGET_INPUTS") or PROFILE["target_inputs"], MAX_INPUTS)
FAST_BOOT = bool(_setting("LIMO_FAST_BOOT"))
GPU_SNAPSHOT = bool(_setting("LIMO_GPU_SNAPSHOT"))
STARTUP_MINUTES = _setting("LIMO_STARTUP_MINUTES")
VLLM_SECRET = _setting("LIMO_VLLM_SECRET")


def vllm_command(model_key: str) -> list[str]:
    """The `vllm serve` argv for one MODELS entry under the current GPU profile (pure; tested)."""
    model = MODELS[model_key]
    cmd = [
        "vllm", "serve", model["hf_repo"],
        "--served-model-name", model["served_name"],
        "--max-model-len", str(MAX_MODEL_LEN),
        "--enable-prefix-caching",  # shared system prompt + n>1 choices reuse the prompt's KV
        "--gpu-memory-utilization", str(PROFILE["gpu_memory_utilization"]),
        # as many sequences as the KV cache holds at full length: vLLM never preempts a running one for KV;
        # the choices of an n > 1 request beyond it wait in vLLM's queue
        "--max-num-seqs", str(PROFILE["max_num_seqs"]),
        # ignore the checkpoint's generation_config.json (Qwen's top_k=20, repetition_penalty=1.05):
        # sampling is exactly what the Worker sends, as with the simulator
        "--generation-config", "vllm",
        # first token at once, then one chunk per 8 tokens: the Worker's CPU per stream is per SSE event
        "--stream-interval", str(STREAM_INTERVAL),
        "--host", "0.0.0.0", "--port", str(VLLM_PORT),
        "--uvicorn-log-level", "warning", "--disable-uvicorn-access-log",  # no prompts or keys in logs
    ]
    if model["revision"]:
        cmd += ["--revision", model["revision"]]
    if PROFILE["quantization"]:
        cmd += ["--quantization", PROFILE["quantization"]]
    if PROFILE["kv_cache_dtype"]:
        cmd += ["--kv-cache-dtype", PROFILE["kv_cache_dtype"]]
    if FAST_BOOT:
        cmd += ["--enforce-eager"]  # no torch.compile / CUDA graphs
    if GPU_SNAPSHOT:
        cmd += ["--enable-sleep-mode"]  # /sleep before the snapshot, /wake_up after a restore
    return cmd


# The container re-imports this module without the deploy shell's environment, so the settings that
# shape the command line are baked into the image: deploy time and run time then agree.
vllm_image = (
    modal.Image.from_registry(CUDA_IMAGE, add_python="3.12")
    .entrypoint([])
    .uv_pip_install(f"vllm=={VLLM_VERSION}")  # brings huggingface_hub with hf_xet
    .env({
        "HF_XET_HIGH_PERFORMANCE": "1",  # hf_xet replaced hf_transfer in huggingface_hub 1.x
        "LIMO_GPU_PROFILE": GPU_PROFILE,
        "LIMO_MAX_INPUTS": str(MAX_INPUTS),
        "LIMO_FAST_BOOT": "1" if FAST_BOOT else "0",
        # the container's own startup deadline (_launch) must be the one web_server was deployed with
        "LIMO_STARTUP_MINUTES": str(STARTUP_MINUTES),
        "LIMO_GPU_SNAPSHOT": "1" if GPU_SNAPSHOT else "0",
        # vLLM serves /sleep and /wake_up only in dev mode; needed only to snapshot
        **({"VLLM_SERVER_DEV_MODE": "1"} if GPU_SNAPSHOT else {}),
    })
)
hf_cache_vol = modal.Volume.from_name("limo-huggingface-cache", create_if_missing=True)
vllm_cache_vol = modal.Volume.from_name("limo-vllm-cache", create_if_missing=True)

app = modal.App(APP_NAME)

FUNCTION_OPTIONS = dict(
    image=vllm_image,
    gpu=PROFILE["gpu"],
    volumes={HF_CACHE_PATH: hf_cache_vol, VLLM_CACHE_PATH: vllm_cache_vol},
    secrets=[modal.Secret.from_name(VLLM_SECRET, required_keys=["VLLM_API_KEY"])] if VLLM_SECRET else [],
    timeout=_setting("LIMO_TIMEOUT_MINUTES") * MINUTES,
    scaledown_window=_setting("LIMO_SCALEDOWN_MINUTES") * MINUTES,
    min_containers=_setting("LIMO_MIN_CONTAINERS"),
    max_containers=_setting("LIMO_MAX_CONTAINERS"),
)


# GPU memory snapshots (LIMO_GPU_SNAPSHOT=1), as Modal's low-latency vLLM examples take them.
SNAPSHOT_OPTIONS = {"enable_memory_snapshot": True, "experimental_options": {"enable_gpu_snapshot": True}}
WARMUP_REQUESTS = 3  # short generations before the snapshot, so CUDA graphs and caches are warm in it
WATCHDOG_POLL_SECONDS = 5
WATCHDOG_GRACE_SECONDS = 30  # in-flight requests fail anyway once vLLM is gone; then the container exits


def _launch(model_key: str, watch: bool = True):
    """Start vLLM and block until its /health answers 200, failing fast if the process dies; returns the process."""
    import subprocess

    cmd = vllm_command(model_key)
    print("starting:", " ".join(cmd))  # holds no secret: vLLM reads VLLM_API_KEY from the environment
    process = subprocess.Popen(cmd)
    deadline = time.monotonic() + STARTUP_MINUTES * MINUTES
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vllm serve exited with code {process.returncode} during startup")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{VLLM_PORT}/health", timeout=5) as response:
                if response.status == 200:
                    if watch:
                        _start_watchdog(process)
                    return process
        except OSError:
            pass
        time.sleep(5)
    raise TimeoutError(f"vLLM not healthy after {STARTUP_MINUTES} minutes")


def _stop_fetching_inputs() -> None:
    import modal.experimental

    modal.experimental.stop_fetching_inputs()


def _watch(process, poll_seconds=WATCHDOG_POLL_SECONDS, grace_seconds=WATCHDOG_GRACE_SECONDS,
           stop=_stop_fetching_inputs, exit_process=os._exit, sleep=time.sleep) -> None:
    """Wait for vLLM to die, then stop this container taking requests and exit, so Modal sends new requests to
    healthy containers and boots a replacement instead of routing them to a dead port."""
    while process.poll() is None:
        sleep(poll_seconds)
    print(f"vllm serve exited with code {process.returncode}: this container stops taking requests", flush=True)
    try:
        stop()
    except Exception as exc:  # an older client without the experimental API: exiting is enough
        print("stop_fetching_inputs failed:", exc, flush=True)
    sleep(grace_seconds)
    exit_process(1)


def _start_watchdog(process) -> None:
    import threading

    threading.Thread(target=_watch, args=(process,), name="vllm-watchdog", daemon=True).start()


def _local_post(path: str, body=None) -> None:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{VLLM_PORT}{path}", data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    if os.environ.get("VLLM_API_KEY") and path.startswith("/v1/"):
        request.add_header("Authorization", "Bearer " + os.environ["VLLM_API_KEY"])
    with urllib.request.urlopen(request, timeout=10 * MINUTES) as response:
        response.read()


def _boot_for_snapshot(model_key: str):
    """Before the snapshot: boot vLLM, warm it up, put it to sleep (weights to CPU memory, KV freed)."""
    process = _launch(model_key, watch=False)
    served = MODELS[model_key]["served_name"]
    for _ in range(WARMUP_REQUESTS):
        _local_post("/v1/chat/completions", {"model": served, "max_tokens": 16,
                                             "messages": [{"role": "user", "content": "What is 1 + 1?"}]})
    _local_post("/sleep?level=1")
    return process


def _wake_from_snapshot(process) -> None:
    """After a restore: weights back onto the GPU, then watch the process as a normal boot does."""
    _local_post("/wake_up")
    _start_watchdog(process)


def _web_server(model_key: str):
    return modal.web_server(port=VLLM_PORT, startup_timeout=STARTUP_MINUTES * MINUTES,
                            label=MODELS[model_key]["label"], requires_proxy_auth=True)


if GPU_SNAPSHOT:
    # Snapshots need the class lifecycle: @modal.enter(snap=True) runs before the snapshot, snap=False after
    # each restore. Not exercised on Modal from this repository's CI: see gpu/README.md.
    @app.cls(**FUNCTION_OPTIONS, **SNAPSHOT_OPTIONS)
    @modal.concurrent(max_inputs=MAX_INPUTS, target_inputs=TARGET_INPUTS)
    class Limo:
        @modal.enter(snap=True)
        def boot(self):
            self.process = _boot_for_snapshot("limo")

        @modal.enter(snap=False)
        def wake(self):
            _wake_from_snapshot(self.process)

        @_web_server("limo")
        def serve(self):
            pass

    @app.cls(**FUNCTION_OPTIONS, **SNAPSHOT_OPTIONS)
    @modal.concurrent(max_inputs=MAX_INPUTS, target_inputs=TARGET_INPUTS)
    class LimoV2:
        @modal.enter(snap=True)
        def boot(self):
            self.process = _boot_for_snapshot("limo-v2")

        @modal.enter(snap=False)
        def wake(self):
            _wake_from_snapshot(self.process)

        @_web_server("limo-v2")
        def serve(self):
            pass
else:
    @app.function(**FUNCTION_OPTIONS)
    @modal.concurrent(max_inputs=MAX_INPUTS, target_inputs=TARGET_INPUTS)
    @_web_server("limo")
    def serve():
        _launch("limo")

    @app.function(**FUNCTION_OPTIONS)
    @modal.concurrent(max_inputs=MAX_INPUTS, target_inputs=TARGET_INPUTS)
    @_web_server("limo-v2")
    def serve_v2():
        _launch("limo-v2")


def _web_url(model: str) -> str:
    if GPU_SNAPSHOT:
        return (Limo if model == "limo" else LimoV2)().serve.get_web_url()
    return (serve if model == "limo" else serve_v2).get_web_url()


class _SeeRedirects(urllib.request.HTTPRedirectHandler):
    """Hands 3xx answers back as HTTPError instead of following them (urllib gives up after 4 to one URL)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _open_following_redirects(request, deadline: float, opener=None):
    """Open `request`, following Modal's 303s to the result URL for as long as `deadline` (time.monotonic) allows.
    A long first boot is a chain of 303s, one per 150 s: urllib's own handler stops after 4 redirects to the same
    URL (10 minutes). Each hop is a GET without the body (RFC 9110 for 303; Modal refuses a re-POST)."""
    opener = opener or urllib.request.build_opener(_SeeRedirects)
    hops = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no response before the deadline, after {hops} redirects")
        try:
            return opener.open(request, timeout=remaining)
        except urllib.error.HTTPError as err:
            if err.code not in (301, 302, 303, 307, 308) or not err.headers.get("Location"):
                raise
            location = urllib.parse.urljoin(request.full_url, err.headers["Location"])
            err.close()
            headers = {k: v for k, v in request.header_items() if k.lower() not in ("content-type", "content-length")}
            request = urllib.request.Request(location, headers=headers, method="GET")
            hops += 1
            print(f"redirect {hops}: {err.code} (Modal still starting a container or running the call)", flush=True)


@app.function(image=vllm_image, volumes={HF_CACHE_PATH: hf_cache_vol}, timeout=60 * MINUTES)
def download(model: str = "limo"):
    """Fill the weights Volume without a GPU, so the first cold start skips the ~65 GB download."""
    from huggingface_hub import snapshot_download

    spec = MODELS[model]
    print("downloaded to", snapshot_download(spec["hf_repo"], revision=spec["revision"]))
    hf_cache_vol.commit()


@app.local_entrypoint()
def smoke(model: str = "limo"):
    """`modal run gpu/modal_app.py::smoke`: boots a container, checks /v1/models and one short stream.
    Needs MODAL_KEY / MODAL_SECRET (a proxy auth token) and VLLM_API_KEY if the secret is used."""
    url = _web_url(model)
    headers = {PROXY_AUTH_HEADERS[0]: os.environ["MODAL_KEY"], PROXY_AUTH_HEADERS[1]: os.environ["MODAL_SECRET"],
               "Content-Type": "application/json"}
    if os.environ.get("VLLM_API_KEY"):
        headers["Authorization"] = "Bearer " + os.environ["VLLM_API_KEY"]
    # The first request may wait out a whole cold boot (minutes, a 303 every 150 s).
    deadline = time.monotonic() + STARTUP_MINUTES * MINUTES
    request = urllib.request.Request(url + "/v1/models", headers=headers)
    with _open_following_redirects(request, deadline) as response:
        card = json.load(response)["data"][0]
    served = MODELS[model]["served_name"]
    assert card["id"] == served and card["max_model_len"] == MAX_MODEL_LEN, card
    body = {"model": served, "stream": True, "max_tokens": 64, "messages": [
        {"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "What is 2 + 3?"}]}
    request = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers=headers, method="POST")
    with _open_following_redirects(request, time.monotonic() + 10 * MINUTES) as response:
        for line in response:
            print(line.decode().rstrip())
