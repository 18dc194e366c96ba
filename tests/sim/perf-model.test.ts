/**
 * @module sim/perf-model.test
 * The performance model against the closed forms of gpu/sim/perf/profiles.md,
 * written out here from the documented constants (not from the module's
 * own helpers), so a changed constant or formula fails loudly: KV bytes a
 * token, KV capacity, the step time alone and with the cache full, and the
 * Modal settings that follow.
 */
import { describe, expect, it } from "vitest";
import {
  kvBytesPerToken,
  kvCapacityBlocks,
  kvCapacityTokens,
  modalSettings,
  sequencesThatFit,
  stepMs,
  stepMsAlone,
  stepMsFull,
} from "../../gpu/sim/perf/arithmetic";
import { GPU_PROFILES, gpuProfile } from "../../gpu/sim/perf/profiles";

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const KV_TOKEN_BYTES = 64 * 8 * 128 * 2 * 2;
const BLOCK_BYTES = KV_TOKEN_BYTES * 16;

describe("KV cache arithmetic", () => {
  it("is 256 KiB a token and 8 GiB a full 32k sequence", () => {
    expect(kvBytesPerToken()).toBe(256 * 1024);
    expect(kvBytesPerToken() * 32_768).toBe(8 * GIB);
  });

  it("H200 BF16: 0.90 x 143,771 MiB less 61 GiB of weights and 4 GiB of overhead", () => {
    const p = GPU_PROFILES["h200-bf16"];
    const kvBytes = Math.floor(143_771 * MIB * 0.9) - 61 * GIB - 4 * GIB;
    expect(kvBytes / GIB).toBeCloseTo(61.36, 2);
    expect(kvCapacityBlocks(p)).toBe(Math.floor(kvBytes / BLOCK_BYTES));
    expect(kvCapacityBlocks(p)).toBe(15_708);
    expect(kvCapacityTokens(p)).toBe(251_328);
    expect(sequencesThatFit(p)).toBe(7);
  });

  it("H100 FP8: 0.90 x 81,559 MiB less 30.5 GiB of weights and 5.5 GiB of overhead", () => {
    const p = GPU_PROFILES["h100-fp8"];
    const kvBytes = Math.floor(81_559 * MIB * 0.9) - 30.5 * GIB - 5.5 * GIB;
    expect(kvCapacityBlocks(p)).toBe(Math.floor(kvBytes / BLOCK_BYTES));
    expect(kvCapacityTokens(p)).toBe(146_144);
    expect(sequencesThatFit(p)).toBe(4);
  });

  it("a lower gpu_memory_utilization leaves less KV", () => {
    const p = GPU_PROFILES["h200-bf16"];
    expect(kvCapacityTokens(p, 0.8)).toBeLessThan(kvCapacityTokens(p));
    expect(sequencesThatFit(p, 32_768, 0.8)).toBe(5);
  });
});

describe("step time", () => {
  it("H200 BF16 alone: 0.4 ms + 61 GiB / 4.8 TB/s = 14.05 ms", () => {
    const p = GPU_PROFILES["h200-bf16"];
    expect(stepMsAlone(p)).toBeCloseTo(0.4 + ((61 * GIB) / 4.8e12) * 1000, 9);
    expect(stepMsAlone(p)).toBeCloseTo(14.05, 2);
  });

  it("H200 BF16 with the cache full (251,328 tokens): 27.77 ms", () => {
    const p = GPU_PROFILES["h200-bf16"];
    const full = 0.4 + ((61 * GIB + 251_328 * KV_TOKEN_BYTES) / 4.8e12) * 1000;
    expect(stepMsFull(p)).toBeCloseTo(full, 9);
    expect(stepMsFull(p)).toBeCloseTo(27.77, 2);
  });

  it("H100 FP8: 10.18 ms alone, 21.61 ms full", () => {
    const p = GPU_PROFILES["h100-fp8"];
    expect(stepMsAlone(p)).toBeCloseTo(0.4 + ((30.5 * GIB) / 3.35e12) * 1000, 9);
    expect(stepMsFull(p)).toBeCloseTo(0.4 + ((30.5 * GIB + 146_144 * KV_TOKEN_BYTES) / 3.35e12) * 1000, 9);
    expect(stepMsAlone(p)).toBeCloseTo(10.18, 2);
    expect(stepMsFull(p)).toBeCloseTo(21.61, 2);
  });

  it("a big prefill chunk is compute-bound: 8,192 tokens x 65.5 GFLOP at half of 989 TFLOP/s", () => {
    const p = GPU_PROFILES["h200-bf16"];
    const flops = 8192 * 2 * ((61 * GIB) / 2);
    expect(stepMs(p, { decodeSequences: 0, prefillTokens: 8192, contextTokens: 8192 })).toBeCloseTo(0.4 + (flops / (989e12 * 0.5)) * 1000, 9);
  });
});

describe("Modal settings from the profile", () => {
  it("max_num_seqs = full sequences that fit; max_inputs counts n as sequences; target = 75 %", () => {
    expect(modalSettings(GPU_PROFILES["h200-bf16"])).toMatchObject({ gpu: "H200", maxNumSeqs: 7, maxInputs: 7, targetInputs: 5, gpuMemoryUtilization: 0.9 });
    expect(modalSettings(GPU_PROFILES["h100-fp8"])).toMatchObject({ gpu: "H100", quantization: "fp8", maxNumSeqs: 4, maxInputs: 4, targetInputs: 3 });
    expect(modalSettings(GPU_PROFILES["h200-bf16"], 2)).toMatchObject({ maxNumSeqs: 7, maxInputs: 3, targetInputs: 2 });
  });

  it("names an unknown profile in its error", () => {
    expect(() => gpuProfile("a10g")).toThrow(/h200-bf16, h100-fp8/);
  });
});
