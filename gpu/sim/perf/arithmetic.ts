/**
 * @module perf/arithmetic
 * The closed forms of the performance model (gpu/sim/perf/profiles.md):
 * KV bytes per token, KV capacity from GPU memory, the time of one engine
 * step from the bytes it reads and the FLOPs it does, and the Modal settings
 * that follow (`max_num_seqs`, `max_inputs`, `target_inputs`). The vLLM
 * engine model, the planner and the drift test of gpu/modal_app.py all call
 * these, so one number never has two derivations.
 */
import { MAX_MODEL_LEN_TOKENS } from "../../../shared/constants";
import { LIMO_SHAPE, type GpuProfile, type ModelShape } from "./profiles";

/** Modal's `target_inputs` as a share of `max_inputs`: the next container boots while this one still has room. */
export const TARGET_INPUTS_FRACTION = 0.75;

/** K and V, for every layer and KV head: 64 x 8 x 128 x 2 x 2 bytes = 256 KiB for LIMO. */
export function kvBytesPerToken(shape: ModelShape = LIMO_SHAPE): number {
  return shape.layers * shape.kvHeads * shape.headDim * 2 * shape.kvBytesPerElement;
}

/** Dense FLOPs per token through the model: 2 per parameter (a multiply and an add). */
export function flopsPerToken(shape: ModelShape = LIMO_SHAPE): number {
  return 2 * shape.parameters;
}

/** Memory vLLM gives the KV cache: utilisation x total, less weights and everything else it profiled. */
export function kvCacheBytes(profile: GpuProfile, gpuMemoryUtilization = profile.gpuMemoryUtilization): number {
  return Math.floor(profile.gpuMemoryBytes * gpuMemoryUtilization) - profile.weightBytes - profile.nonKvOverheadBytes;
}

/** KV blocks of `blockSizeTokens` tokens that fit in the KV cache. */
export function kvCapacityBlocks(profile: GpuProfile, gpuMemoryUtilization = profile.gpuMemoryUtilization): number {
  const blockBytes = kvBytesPerToken() * profile.blockSizeTokens;
  return Math.max(0, Math.floor(kvCacheBytes(profile, gpuMemoryUtilization) / blockBytes));
}

/** KV capacity in tokens (whole blocks), what vLLM logs as "GPU KV cache size: N tokens". */
export function kvCapacityTokens(profile: GpuProfile, gpuMemoryUtilization = profile.gpuMemoryUtilization): number {
  return kvCapacityBlocks(profile, gpuMemoryUtilization) * profile.blockSizeTokens;
}

/** Sequences of `sequenceTokens` (prompt + answer) that fit in the KV cache at once. */
export function sequencesThatFit(profile: GpuProfile, sequenceTokens = MAX_MODEL_LEN_TOKENS, gpuMemoryUtilization = profile.gpuMemoryUtilization): number {
  const blocksPerSequence = Math.ceil(sequenceTokens / profile.blockSizeTokens);
  return Math.floor(kvCapacityBlocks(profile, gpuMemoryUtilization) / blocksPerSequence);
}

/** What one engine step does: the sequences it decodes, the KV it reads, the prompt tokens it prefills. */
export interface StepWork {
  /** Sequences producing one token each this step. */
  decodeSequences: number;
  /** Context tokens whose KV attention reads this step (all scheduled sequences). */
  contextTokens: number;
  /** Prompt (or recomputed) tokens prefilled this step. */
  prefillTokens: number;
}

/**
 * One step's time in ms, on the roofline: a fixed overhead plus the larger
 * of the memory time (weights + KV read once at peak bandwidth) and the
 * compute time (every token through every weight at `prefillMfu` of peak).
 */
export function stepMs(profile: GpuProfile, work: StepWork): number {
  const bytes = profile.weightBytes + work.contextTokens * kvBytesPerToken();
  const memoryMs = (bytes / profile.memoryBandwidthBytesPerSecond) * 1000;
  const tokens = work.decodeSequences + work.prefillTokens;
  const computeMs = ((tokens * flopsPerToken()) / (profile.peakDenseFlopsPerSecond * profile.prefillMfu)) * 1000;
  return profile.stepOverheadMs + Math.max(memoryMs, computeMs);
}

/** A decode step of one short sequence: the weights alone. */
export function stepMsAlone(profile: GpuProfile): number {
  return stepMs(profile, { decodeSequences: 1, contextTokens: 0, prefillTokens: 0 });
}

/** A decode step with the whole KV cache in the batch, `sequences` of them. */
export function stepMsFull(profile: GpuProfile, sequences = sequencesThatFit(profile)): number {
  return stepMs(profile, { decodeSequences: sequences, contextTokens: kvCapacityTokens(profile), prefillTokens: 0 });
}

/** The Modal app's settings derived from a profile (gpu/modal_app.py must agree: tests/node/gpu-settings.test.ts). */
export interface ModalSettings {
  gpu: GpuProfile["modalGpu"];
  quantization: GpuProfile["quantization"];
  kvCacheDtype: GpuProfile["kvCacheDtype"];
  gpuMemoryUtilization: number;
  /** vLLM `--max-num-seqs`: every running sequence can reach the full context without preemption. */
  maxNumSeqs: number;
  /** `@modal.concurrent(max_inputs)`: HTTP requests per container, `sequencesPerRequest` sequences each. */
  maxInputs: number;
  /** `@modal.concurrent(target_inputs)`: where Modal's autoscaler adds a container. */
  targetInputs: number;
}

/**
 * The settings for a profile. `sequencesPerRequest` counts `n`: vLLM runs
 * each choice as its own sequence, so a container taking requests of n = 4
 * needs four sequence slots for each.
 */
export function modalSettings(profile: GpuProfile, sequencesPerRequest = 1): ModalSettings {
  const maxNumSeqs = Math.max(1, sequencesThatFit(profile));
  const maxInputs = Math.max(1, Math.floor(maxNumSeqs / sequencesPerRequest));
  return {
    gpu: profile.modalGpu,
    quantization: profile.quantization,
    kvCacheDtype: profile.kvCacheDtype,
    gpuMemoryUtilization: profile.gpuMemoryUtilization,
    maxNumSeqs,
    maxInputs,
    targetInputs: Math.max(1, Math.floor(maxInputs * TARGET_INPUTS_FRACTION)),
  };
}
