/**
 * The backend client maps vLLM's refusals by status and `param`, never by the
 * wording of its message (which changes between vLLM versions): a prompt that
 * does not fit the context is `context_length_exceeded`, another bad field an
 * `invalid_request` naming the field as the client wrote it.
 */
import { describe, expect, it } from "vitest";
import type { BackendConfig } from "../../shared/backends";
import { openBackendStream } from "../../worker/routing/backend-client";
import { newSim } from "../helpers/sim";

function backendOf(url: string): BackendConfig {
  return { name: "sim", url, models: ["GAIR/LIMO"], weight: 1, kind: "simulator" };
}

async function refusal(body: Record<string, unknown>) {
  const sim = newSim();
  const call = openBackendStream(backendOf(sim.url), "/v1/completions", { model: "GAIR/LIMO", stream: true, ...body }, {}, new AbortController().signal);
  return call.then(
    () => expect.unreachable("the backend accepted the request"),
    (err: unknown) => err as { code: string; param: string | null; status: number },
  );
}

describe("backend refusals", () => {
  it("maps vLLM's input_tokens refusal to context_length_exceeded", async () => {
    // 4 bytes a simulated token: about 20,000 prompt tokens plus 20,000 asked do not fit 32,768.
    const err = await refusal({ prompt: "abcd ".repeat(16_000), max_tokens: 20_000 });
    expect(err).toMatchObject({ code: "context_length_exceeded", status: 400 });
  });

  it("passes another refused field on as invalid_request with the client's name for it", async () => {
    const err = await refusal({ prompt: "hello", max_tokens: 40_000 });
    expect(err).toMatchObject({ code: "invalid_request", param: "max_tokens", status: 400 });
  });
});
