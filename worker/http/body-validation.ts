/**
 * @module body-validation
 * Reads a JSON body and validates it with zod, turning the first problem into
 * an OpenAI-style 400 that names the offending parameter.
 */
import type { Context } from "hono";
import type * as z from "zod";
import type { HonoEnv } from "./hono-env";
import { ApiError } from "../core/errors";

/** Parses the request body as JSON (its size was already limited by bodyLimit). */
export async function readJson(c: Context<HonoEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") {
    throw new ApiError("invalid_json", "The request body is empty. Send a JSON object.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(
      "invalid_json",
      "We could not parse the JSON body of your request. The body must be valid JSON (Content-Type: application/json).",
    );
  }
}

/** Validates `input` against `schema` or throws the 400 for its first issue. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ApiError("invalid_request", "The request body must be a JSON object.");
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw issueToError(result.error.issues[0]!, input);
}

/** OpenAI writes parameter paths as `messages[0].content`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out;
}

/** The 400 for one zod issue; `input` tells a missing parameter from a wrong one. */
export function issueToError(issue: z.core.$ZodIssue, input: unknown): ApiError {
  const param = formatPath(issue.path);
  if ((issue.code === "invalid_type" || issue.code === "invalid_union") && valueAt(input, issue.path) === undefined) {
    return new ApiError("missing_required_parameter", `Missing required parameter: '${param}'.`, { param });
  }
  switch (issue.code) {
    case "unrecognized_keys": {
      const key = issue.keys[0]!;
      const full = param ? `${param}.${key}` : key;
      return new ApiError("unknown_parameter", `Unrecognized request argument supplied: ${full}`, { param: full });
    }
    case "invalid_type":
      return new ApiError("invalid_type", `Invalid type for '${param}': expected ${issue.expected}.`, { param });
    case "invalid_union":
      // A discriminated union (a message's role, response_format's type) names the values it takes.
      if ("discriminator" in issue && "options" in issue && Array.isArray(issue.options)) {
        const options = issue.options.map((o) => `'${String(o)}'`).join(", ");
        return new ApiError("invalid_value", `Invalid value for '${param}': expected one of ${options}.`, { param });
      }
      return new ApiError("invalid_type", `Invalid type or value for '${param}'.`, { param });
    default:
      return new ApiError("invalid_value", `Invalid value for '${param}': ${issue.message}.`, { param });
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
