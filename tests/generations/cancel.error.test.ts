/**
 * A cancelled generation ends the same way for every reader: one error code,
 * `generation_cancelled` (shared/errors), in the JSON answer of a client
 * that did not stream, in the last event of a stream, and in the generation
 * object's `error`.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { GenerationObject } from "../../shared/generations";
import { generationObject, parseGenerationId } from "../../worker/generations/generation-rpc";
import { GenerationStorage } from "../../worker/generations/generation-storage";
import { errorOf } from "../helpers/api";
import { limitedAccount } from "../helpers/limits";
import { pollUntil } from "../helpers/sim";
import { readEvents } from "../helpers/sse";
import { generationsClient } from "./client";

/** Cacheable across accounts, so a second account's request joins the first one's run. */
const ASK = { messages: [{ role: "user", content: "List the primes below 10,000." }], temperature: 0, max_tokens: 2000, cache: { scope: "shared" } };

describe("cancelling a generation", () => {
  it("answers every reader with generation_cancelled: the JSON client that joined, the stream, the generation object", async () => {
    const first = await limitedAccount();
    const second = await limitedAccount();
    await first.sim.configure({ tokens_per_second: 20 });
    const streamed = await generationsClient(first).chat({ ...ASK, stream: true });
    expect(streamed.status).toBe(200);
    const id = streamed.headers.get("x-generation-id")!;
    const events = readEvents(streamed);

    const joined = generationsClient(second).chat(ASK);
    // The second request has joined once its account is among the run's viewers (stored as it joins).
    const object = generationObject(env, parseGenerationId(id)!.name);
    const viewers = () => runInDurableObject(object, (_, state) => new GenerationStorage(state.storage).latest()?.viewers ?? []);
    await pollUntil(viewers, (accounts) => accounts.includes(second.accountId));

    const cancelled = await generationsClient(first).post(`/v1/generations/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as GenerationObject).error).toMatchObject({ code: "generation_cancelled" });

    const json = await joined;
    expect(json.status).toBe(409);
    expect(await errorOf(json)).toMatchObject({ code: "generation_cancelled", type: "invalid_request_error" });

    const last = JSON.parse((await events).data.at(-1)!) as { error: { code: string; type: string } };
    expect(last.error).toMatchObject({ code: "generation_cancelled", type: "invalid_request_error" });

    await first.settledLedger(1);
    await second.settledLedger(1);
  });
});
