/**
 * @module perf/profiles
 * The GPU profiles the simulator, the capacity planner and `gpu/modal_app.py`
 * share: LIMO (Qwen2.5-32B) on one H200 in BF16 or one H100 with FP8
 * weights. Every number is derived in `gpu/sim/perf/profiles.md`; the
 * arithmetic that turns them into step times and capacities is in
 * `./arithmetic.ts`. Pure data, no I/O: runs in workerd and Node alike.
 */

/** Bytes in a GiB (2^30). */
export const GIB_BYTES = 1024 ** 3;
/** Bytes in a MiB (2^20): nvidia-smi reports GPU memory in MiB. */
export const MIB_BYTES = 1024 ** 2;

/** The model's shape, as far as memory and FLOPs go (Qwen2.5-32B's config.json). */
export interface ModelShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Bytes per K or V element in the KV cache (BF16 = 2). */
  kvBytesPerElement: number;
  /** Parameters, for FLOPs: 2 FLOPs per parameter per token. */
  parameters: number;
}

/** LIMO = Qwen2.5-32B: 64 layers, 8 KV heads of 128 dims; 61 GiB of BF16 weights = 32.75e9 parameters. */
export const LIMO_SHAPE: Readonly<ModelShape> = Object.freeze({
  layers: 64,
  kvHeads: 8,
  headDim: 128,
  kvBytesPerElement: 2,
  parameters: (61 * GIB_BYTES) / 2,
});

export type GpuProfileName = "h200-bf16" | "h100-fp8";

/** One GPU and precision choice: the hardware, what vLLM keeps resident, and how fast a container boots. */
export interface GpuProfile {
  name: GpuProfileName;
  /** Modal's `gpu=` string. */
  modalGpu: "H200" | "H100";
  /** Total GPU memory as the driver reports it (nvidia-smi's MiB), in bytes. */
  gpuMemoryBytes: number;
  /** Peak HBM bandwidth (bytes/s): decode reads every weight and the batch's KV once a step. */
  memoryBandwidthBytesPerSecond: number;
  /** Peak dense tensor throughput at the weights' precision (FLOP/s), for prefill. */
  peakDenseFlopsPerSecond: number;
  /** Fraction of peak FLOPs a prefill GEMM reaches (model FLOPs utilisation). */
  prefillMfu: number;
  /** Weight bytes resident and read once per forward pass. */
  weightBytes: number;
  /** vLLM's `--quantization` (null = the checkpoint's BF16). */
  quantization: "fp8" | null;
  /** vLLM's `--kv-cache-dtype` (null = the model dtype, BF16: 2 bytes an element). */
  kvCacheDtype: null;
  /** Activation peak, CUDA graphs, sampler and library workspaces: memory vLLM cannot give to KV. */
  nonKvOverheadBytes: number;
  /** vLLM's `--gpu-memory-utilization`: the share of GPU memory vLLM may use at all. */
  gpuMemoryUtilization: number;
  /** Fixed cost of one engine step (scheduling, sampling, kernel launches), in ms. */
  stepOverheadMs: number;
  /** vLLM's `max_num_batched_tokens` default on a >= 70 GiB GPU for the API server: the per-step token budget. */
  maxNumBatchedTokens: number;
  /** vLLM's KV block size in tokens (default 16). */
  blockSizeTokens: number;
  /** A cold start from the Volumes (weights, compile cache): container, load, compile, CUDA graphs; seconds. */
  bootSeconds: number;
  /** A cold start restored from a CPU + GPU memory snapshot (vLLM sleep mode); seconds. */
  snapshotBootSeconds: number;
}

/** Qwen2.5-32B in BF16: the checkpoint's 61 GiB, read whole by every decode step. */
const BF16_WEIGHT_BYTES = 61 * GIB_BYTES;

/** The profiles, by name. Derivations: gpu/sim/perf/profiles.md. */
export const GPU_PROFILES: Readonly<Record<GpuProfileName, Readonly<GpuProfile>>> = Object.freeze({
  "h200-bf16": Object.freeze({
    name: "h200-bf16",
    modalGpu: "H200",
    gpuMemoryBytes: 143_771 * MIB_BYTES,
    memoryBandwidthBytesPerSecond: 4.8e12,
    peakDenseFlopsPerSecond: 989e12,
    prefillMfu: 0.5,
    weightBytes: BF16_WEIGHT_BYTES,
    quantization: null,
    kvCacheDtype: null,
    nonKvOverheadBytes: 4 * GIB_BYTES,
    gpuMemoryUtilization: 0.9,
    stepOverheadMs: 0.4,
    maxNumBatchedTokens: 8192,
    blockSizeTokens: 16,
    bootSeconds: 240,
    snapshotBootSeconds: 45,
  }),
  "h100-fp8": Object.freeze({
    name: "h100-fp8",
    modalGpu: "H100",
    gpuMemoryBytes: 81_559 * MIB_BYTES,
    memoryBandwidthBytesPerSecond: 3.35e12,
    peakDenseFlopsPerSecond: 1979e12,
    prefillMfu: 0.5,
    weightBytes: BF16_WEIGHT_BYTES / 2,
    quantization: "fp8",
    kvCacheDtype: null,
    // FP8 keeps the embedding and lm_head in BF16 (+1.5 GiB resident), folded in here.
    nonKvOverheadBytes: 5.5 * GIB_BYTES,
    gpuMemoryUtilization: 0.9,
    stepOverheadMs: 0.4,
    maxNumBatchedTokens: 8192,
    blockSizeTokens: 16,
    // The BF16 checkpoint is read and quantized at load: the boot is as long as BF16's.
    bootSeconds: 240,
    snapshotBootSeconds: 30,
  }),
});

/** Names accepted by SIM_PROFILE, `/sim/config` and `npm run plan --profile`. */
export const GPU_PROFILE_NAMES = Object.keys(GPU_PROFILES) as GpuProfileName[];

/** The profile called `name`; throws a message listing the valid names otherwise. */
export function gpuProfile(name: string): Readonly<GpuProfile> {
  const profile = (GPU_PROFILES as Record<string, Readonly<GpuProfile> | undefined>)[name];
  if (!profile) throw new RangeError(`unknown GPU profile ${JSON.stringify(name)}; expected one of ${GPU_PROFILE_NAMES.join(", ")}`);
  return profile;
}
