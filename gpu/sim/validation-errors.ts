/**
 * @module validation-errors
 * vLLM's two shapes of 400, so the Worker meets both:
 * - a body that fails request validation goes through FastAPI's handler
 *   (`validation_exception_handler`, vllm/entrypoints/serve/exception_handling/
 *   handlers/validation.py): `type` is the status phrase "Bad Request", the
 *   message lists pydantic's errors ("1 validation error:\n  {...}"), and
 *   `param` is the VLLMValidationError's parameter, else the first error's
 *   location joined with dots ("body.max_tokens");
 * - a VLLMValidationError raised while serving (`create_error_response`,
 *   vllm/entrypoints/serve/exception_handling/error_response.py): `type`
 *   "BadRequestError", `param` the parameter, and the message is `str(exc)`,
 *   which appends " (parameter=..., value=...)" (vllm/exceptions.py).
 * The listed errors are rendered the way Python prints a dict, closely but
 * not byte for byte: nothing should key on them.
 */

/** An error envelope's parts, before the status is attached. */
export interface RequestFailure {
  message: string;
  type: string;
  param: string | null;
}

/** `HTTPStatus.BAD_REQUEST.phrase`: FastAPI's validation handler uses it as the error type. */
export const VALIDATION_ERROR_TYPE = "Bad Request";

/** Longest rendering of an offending input, as vLLM's `_summarize_error_input`. */
const MAX_ERROR_INPUT_CHARS = 200;

/** `str(VLLMValidationError(message, parameter=, value=))`. */
export function vllmErrorText(message: string, parameter: string | null, value?: unknown): string {
  const extras: string[] = [];
  if (parameter !== null) extras.push(`parameter=${parameter}`);
  if (value !== undefined && value !== null) extras.push(`value=${String(value)}`);
  return extras.length > 0 ? `${message} (${extras.join(", ")})` : message;
}

/** A VLLMValidationError raised in a `model_validator(mode="before")`, as the client sees it. */
export function valueError(message: string, parameter: string | null, input: unknown): RequestFailure {
  const text = vllmErrorText(message, parameter);
  const entry = `{'type': 'value_error', 'loc': ('body',), 'msg': ${pyStr(`Value error, ${text}`)}, 'input': ${pyInput(input)}, 'ctx': {'error': VLLMValidationError(${pyStr(message)})}}`;
  return { message: `1 validation error:\n  ${entry}`, type: VALIDATION_ERROR_TYPE, param: parameter ?? "body" };
}

/** Field-validation failures (zod's issues standing in for pydantic's). */
export function validationFailure(issues: readonly { path: readonly PropertyKey[]; message: string; code: string }[], body: unknown): RequestFailure {
  const entries = issues.map((issue) => {
    const loc = ["body", ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))];
    const input = valueAt(body, issue.path);
    return `{'type': '${issue.code}', 'loc': (${loc.map((p) => (typeof p === "number" ? String(p) : pyStr(p))).join(", ")}), 'msg': ${pyStr(issue.message)}, 'input': ${pyInput(input)}}`;
  });
  const label = entries.length === 1 ? "error" : "errors";
  const first = issues[0];
  const param = first ? ["body", ...first.path.map(String)].join(".") : null;
  return { message: `${entries.length} validation ${label}:\n${entries.map((e) => `  ${e}`).join("\n")}`, type: VALIDATION_ERROR_TYPE, param };
}

/** FastAPI's answer to a body that is not JSON. */
export function invalidJson(): RequestFailure {
  const entry = "{'type': 'json_invalid', 'loc': ('body', 0), 'msg': 'JSON decode error', 'input': {}, 'ctx': {'error': 'Expecting value'}}";
  return { message: `1 validation error:\n  ${entry}`, type: VALIDATION_ERROR_TYPE, param: "body.0" };
}

/** `validate_json_request`: vLLM's generation routes take `application/json` only. */
export function unsupportedMediaType(): RequestFailure {
  return { message: "1 validation error:\n  Unsupported Media Type: Only 'application/json' is allowed", type: VALIDATION_ERROR_TYPE, param: null };
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const key of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** Python's repr of a str. */
function pyStr(s: string): string {
  const body = s.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
  if (s.includes("'") && !s.includes('"')) return `"${body}"`;
  return `'${body.replaceAll("'", "\\'")}'`;
}

/** The input as vLLM summarises it: containers by size, long strings cut. */
function pyInput(v: unknown): string {
  if (v === undefined || v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return pyStr(v.length > MAX_ERROR_INPUT_CHARS ? `${v.slice(0, MAX_ERROR_INPUT_CHARS)}...[truncated]` : v);
  if (Array.isArray(v)) return `'<list of ${v.length} items>'`;
  return `'<dict of ${Object.keys(v as object).length} items>'`;
}
