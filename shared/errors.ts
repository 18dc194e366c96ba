/**
 * @module errors
 * One error model for the whole API: a code, one table from code to HTTP status
 * and OpenAI error `type`, and OpenAI's envelope on the wire.
 */

/** OpenAI's error envelope, which vLLM uses too. */
export interface OpenAIErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
}

/** Every error code we answer with, its HTTP status and OpenAI error type. */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  invalid_json: { status: 400, type: "invalid_request_error" },
  unknown_parameter: { status: 400, type: "invalid_request_error" },
  invalid_type: { status: 400, type: "invalid_request_error" },
  invalid_value: { status: 400, type: "invalid_request_error" },
  /** A field of OpenAI's schema that LIMO does not serve, refused because serving it would mislead. */
  unsupported_parameter: { status: 400, type: "invalid_request_error" },
  missing_required_parameter: { status: 400, type: "invalid_request_error" },
  context_length_exceeded: { status: 400, type: "invalid_request_error" },
  invalid_api_key: { status: 401, type: "invalid_request_error" },
  permission_denied: { status: 403, type: "invalid_request_error" },
  account_suspended: { status: 403, type: "invalid_request_error" },
  origin_not_allowed: { status: 403, type: "invalid_request_error" },
  model_not_found: { status: 404, type: "invalid_request_error" },
  not_found: { status: 404, type: "invalid_request_error" },
  method_not_allowed: { status: 405, type: "invalid_request_error" },
  conflict: { status: 409, type: "invalid_request_error" },
  /** A generation stopped by `POST /v1/generations/{id}/cancel` or abandoned by its clients: its JSON answer and its stream's last event. */
  generation_cancelled: { status: 409, type: "invalid_request_error" },
  request_too_large: { status: 413, type: "invalid_request_error" },
  unsupported_media_type: { status: 415, type: "invalid_request_error" },
  /** A tutor mode without `reference_answer` whose hidden solve ended without a final answer: nothing to guard against. */
  tutor_reference_unavailable: { status: 422, type: "invalid_request_error" },
  rate_limit_exceeded: { status: 429, type: "requests" },
  insufficient_quota: { status: 429, type: "insufficient_quota" },
  /** One end user (`safety_identifier` or `user`) over the account's per-end-user requests per minute or concurrency. */
  end_user_rate_limit_exceeded: { status: 429, type: "requests" },
  /** One end user over the account's per-end-user tokens per day. */
  end_user_quota_exceeded: { status: 429, type: "insufficient_quota" },
  /** A client token whose own `max_requests` or `max_total_tokens` is spent (or fully reserved by requests in progress). */
  client_token_budget_exceeded: { status: 429, type: "insufficient_quota" },
  internal_error: { status: 500, type: "server_error" },
  misconfigured: { status: 500, type: "server_error" },
  backend_error: { status: 502, type: "server_error" },
  backend_unavailable: { status: 503, type: "server_error" },
  server_busy: { status: 503, type: "server_error" },
  backend_timeout: { status: 504, type: "server_error" },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Builds the envelope for a code. */
export function errorBody(code: ErrorCode, message: string, param: string | null = null): OpenAIErrorBody {
  return { error: { message, type: ERROR_CODES[code].type, param, code } };
}
