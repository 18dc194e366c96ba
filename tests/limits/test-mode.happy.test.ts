import { describe, expect, it } from "vitest";
import type { ChatCompletion } from "../../shared/openai";
import { adminApi } from "../helpers/admin";
import { newSim } from "../helpers/sim";

describe("test-mode keys", () => {
  it("never reach a GPU backend: the Worker's built-in simulator answers them", async () => {
    const gpu = newSim(); // stands in for a GPU: any request it sees is a failure of this test
    const a = adminApi({ BACKENDS: JSON.stringify([{ name: "gpu", url: gpu.url, models: ["GAIR/LIMO"], kind: "gpu" }]) });
    const { id } = await a.createAccount("Integrator");
    const { key: testKey } = await a.createKey(id, { mode: "test" });
    const { key: liveKey } = await a.createKey(id);
    const ask = (key: string) =>
      a.withKey(key, "/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model: "limo", messages: [{ role: "user", content: "What is 3+5?" }], max_tokens: 40 }),
      });
    const res = await ask(testKey);
    expect(res.status).toBe(200);
    expect(((await res.json()) as ChatCompletion).choices[0]!.message.content.length).toBeGreaterThan(0);
    expect((await gpu.stats()).requests_total).toBe(0);
    const live = await ask(liveKey);
    expect(live.status).toBe(200);
    await live.text();
    expect((await gpu.stats()).requests_total).toBe(1);
  });
});
