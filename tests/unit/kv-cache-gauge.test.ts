import { describe, expect, it } from "vitest";
import { parseKvCacheUsage } from "../../worker/routing/health-poll";

describe("parseKvCacheUsage", () => {
  it("reads vLLM's KV-cache gauge, the fullest engine when there are several", () => {
    const text = [
      "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
      "# TYPE vllm:kv_cache_usage_perc gauge",
      'vllm:kv_cache_usage_perc{engine="0",model_name="GAIR/LIMO"} 0.25',
      'vllm:kv_cache_usage_perc{engine="1",model_name="GAIR/LIMO"} 0.625',
      'vllm:num_requests_running{engine="0",model_name="GAIR/LIMO"} 3',
    ].join("\n");
    expect(parseKvCacheUsage(text)).toBe(0.625);
    expect(parseKvCacheUsage("vllm:kv_cache_usage_perc 0\n")).toBe(0);
  });

  it("is null without the gauge, ignores what is not a number, and keeps the value within 0 and 1", () => {
    expect(parseKvCacheUsage("vllm:num_requests_running 1\n")).toBeNull();
    expect(parseKvCacheUsage("vllm:kv_cache_usage_perc NaN\n")).toBeNull();
    expect(parseKvCacheUsage("vllm:kv_cache_usage_perc 1.5\n")).toBe(1);
  });
});
