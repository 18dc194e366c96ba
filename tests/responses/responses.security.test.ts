/**
 * Only the account that created a response can read, resume, continue,
 * cancel or delete it: to any other account it does not exist.
 */
import { describe, expect, it } from "vitest";
import type { ResponseObject } from "../../shared/openai-responses";
import { errorOf } from "../helpers/api";
import { newClient, responsesClient } from "./client";
import { limitedAccount } from "../helpers/limits";

describe("another account's response", () => {
  it("is a 404 on every route, and cannot be continued", async () => {
    const owner = await newClient();
    const other = responsesClient(await limitedAccount());
    const body = (await (await owner.create({ input: "What is 5+5?" })).json()) as ResponseObject;
    for (const res of [
      await other.get(`/v1/responses/${body.id}`),
      await other.get(`/v1/responses/${body.id}?stream=true`),
      await other.get(`/v1/responses/${body.id}/input_items`),
      await other.post(`/v1/responses/${body.id}/cancel`),
      await other.delete(`/v1/responses/${body.id}`),
      await other.create({ input: "Go on.", previous_response_id: body.id }),
    ]) {
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe("not_found");
    }
    // Still there for its owner.
    expect((await owner.get(`/v1/responses/${body.id}`)).status).toBe(200);
    expect(await other.account.ledger()).toEqual([]);
  });
});
