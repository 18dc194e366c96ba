/**
 * @module answers-routes
 * `POST /v1/answers/check`: is each candidate the same answer as the
 * reference? Parse (bad input is a 400 that costs nothing: no admission call),
 * then the check service (one admission call, the checker, one zero-token
 * ledger record). The answer's shape is shared/answers.ts.
 */
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { AnswerCheckRequestSchema, AnswerCheckResponseSchema, MAX_ANSWER_CHARS, MAX_CHECK_CANDIDATES } from "../../shared/answers";
import { checkForAccount } from "../answers/check-service";
import { parseWith, readJson } from "./body-validation";
import type { App, HonoEnv } from "./hono-env";
import { documentedRoute } from "./openapi/documented-route";
import { authErrors, documentedJsonBody, errorDoc } from "./openapi/openapi-schemas";

const check = createRoute({
  method: "post",
  path: "/v1/answers/check",
  tags: ["Answers"],
  summary: "Check answers against a reference",
  description:
    "For each candidate: `equivalent` true (sure), false (with a reason: two different numbers, a missing root), or null " +
    "(undecided within the call's work budget: never a guess), and the `method` that decided: exact and normalised strings, " +
    "numbers within LIMO's 1e-4, shapes (tuples, intervals, sets, matrices, multiple choice, equations), then a computer algebra step. " +
    "`extract: true` first reads each candidate's final answer (the last `\\boxed{}`, or a student's free text: \"I got 12 apples\"). " +
    "Counts against the key's requests per minute; not billed in tokens.",
  security: [{ ApiKey: [] }],
  request: { body: documentedJsonBody("AnswerCheckRequest") },
  responses: {
    200: { description: "One result per candidate, in order", content: { "application/json": { schema: AnswerCheckResponseSchema } } },
    400: errorDoc(`Invalid request: a missing \`reference\`, no or more than ${MAX_CHECK_CANDIDATES} candidates, a string over ${MAX_ANSWER_CHARS} characters, a wrong type or an unknown field.`),
    ...authErrors,
    413: errorDoc("The body exceeds 1 MiB."),
    429: errorDoc("The key's requests per minute (or concurrency) are spent; retry after `Retry-After`."),
  },
});

export function registerAnswersRoutes(app: App, guard: MiddlewareHandler<HonoEnv>): void {
  app.openAPIRegistry.register("AnswerCheckRequest", AnswerCheckRequestSchema);
  documentedRoute(app, check, [
    guard,
    async (c) => {
      const request = parseWith(AnswerCheckRequestSchema, await readJson(c));
      const { body, headers } = await checkForAccount(c.env, {
        requestId: c.get("requestId"),
        credential: c.get("credential"),
        request,
        now: Date.now(),
        waitUntil: (p) => c.executionCtx.waitUntil(p),
      });
      return c.json(body, 200, headers);
    },
  ]);
}
