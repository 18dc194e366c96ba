/**
 * A browser's client token may create a response (as its end user, within
 * its budget), but not read one back: stored responses need the key.
 */
import { describe, expect, it } from "vitest";
import type { ResponseObject } from "../../shared/openai-responses";
import { errorOf } from "../helpers/api";
import { platform } from "../helpers/platform";

const PAGE = "https://tutor.example";

describe("client tokens and the Responses API", () => {
  it("create a response as the token's end user; reading it needs the key", async () => {
    const p = await platform();
    const { token } = await p.mint({ end_user: "student-r", origins: [PAGE] });
    const res = await p.a.withKey(token, "/v1/responses", {
      method: "POST",
      headers: { "content-type": "application/json", origin: PAGE },
      body: JSON.stringify({ model: "limo", input: "What is 5 times 5?", max_output_tokens: 16 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ResponseObject;
    expect(body.status).toMatch(/^(completed|incomplete)$/);
    const [record] = await p.settledLedger(1);
    expect(record).toMatchObject({ end_user: "student-r", endpoint: "responses", completion_tokens: body.usage!.output_tokens });
    const read = await p.a.withKey(token, `/v1/responses/${body.id}`, { headers: { origin: PAGE } });
    expect(read.status).toBe(403);
    expect((await errorOf(read)).code).toBe("permission_denied");
  });
});
