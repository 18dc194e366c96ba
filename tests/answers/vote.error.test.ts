/**
 * The request field `vote` is refused (400, free) where it cannot mean
 * anything, and documented with `final_answer` and the check route.
 */
import { describe, expect, it } from "vitest";
import { MAX_CHOICES_N } from "../../shared/constants";
import { errorOf } from "../helpers/api";
import { limitedAccount } from "../helpers/limits";

describe("vote: bad requests", () => {
  it("refuses vote with fewer than two samples, over the maximum n, contradicting n, or of a wrong type; none reaches the backend or the ledger", async () => {
    const acct = await limitedAccount();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ vote: true }, "invalid_value", "vote"],
      [{ vote: true, n: 1 }, "invalid_value", "vote"],
      [{ vote: { n: 1 } }, "invalid_value", "vote.n"],
      [{ vote: { n: MAX_CHOICES_N + 1 } }, "invalid_value", "vote.n"],
      [{ vote: { n: 3 }, n: 2 }, "invalid_value", "vote.n"],
      [{ vote: "yes", n: 2 }, "invalid_type", "vote"],
      [{ vote: { n: 2, k: 1 } }, "unknown_parameter", "vote.k"],
    ];
    for (const [body, code, param] of cases) {
      const res = await acct.chat({ max_tokens: 5, ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await errorOf(res), JSON.stringify(body)).toMatchObject({ code, param });
    }
    expect((await acct.sim.stats()).requests_total).toBe(0);
    expect(await acct.ledger()).toHaveLength(0);
    // `vote: false` is no vote, and `vote: {n}` equal to `n` is fine.
    expect((await acct.chat({ max_tokens: 5, vote: false })).status).toBe(200);
    expect((await acct.chat({ max_tokens: 5, vote: { n: 2 }, n: 2 })).status).toBe(200);
  });

  it("documents final_answer, vote and POST /v1/answers/check in /openapi.json", async () => {
    const acct = await limitedAccount();
    const doc = (await (await acct.a.fetch("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.paths["/v1/answers/check"]!.post!.security).toEqual([{ ApiKey: [] }]);
    const schemas = doc.components.schemas;
    for (const id of ["AnswerCheckRequest", "AnswerCheck", "AnswerCheckResult", "Vote"]) expect(schemas).toHaveProperty(id);
    expect(schemas.ChatCompletionRequest!.properties).toHaveProperty("vote");
    expect(schemas.CompletionRequest!.properties).toHaveProperty("vote");
    expect(schemas.ChatCompletion!.properties).toHaveProperty("vote");
    expect(JSON.stringify(schemas.ChatCompletion)).toContain("final_answer");
    expect(JSON.stringify(schemas.Completion)).toContain("final_answer");
  });
});
