/**
 * The one error catalogue. Every error the gateway answers with has a stable code, an HTTP status
 * and a type; code matches on `code`, never on messages. README's error table mirrors this list.
 */
export const ERRORS = {
  invalid_json: { status: 400, type: "invalid_request_error", hint: "The request body is not valid JSON." },
  invalid_request: { status: 400, type: "invalid_request_error", hint: "A field is missing or has the wrong type." },
  missing_model: { status: 400, type: "invalid_request_error", hint: "The body has no model field." },
  unauthorized: { status: 401, type: "authentication_error", hint: "The client key is missing or unknown." },
  unknown_route: { status: 404, type: "not_found_error", hint: "No route serves this method and path." },
  unknown_model: { status: 404, type: "not_found_error", hint: "No route serves this model on this surface." },
  method_not_allowed: { status: 405, type: "invalid_request_error", hint: "The path exists but not for this method." },
  body_too_large: { status: 413, type: "invalid_request_error", hint: "The body is over server.max_body_bytes." },
  unsupported_media_type: { status: 415, type: "invalid_request_error", hint: "Send Content-Type: application/json." },
  client_closed: { status: 499, type: "invalid_request_error", hint: "The client went away before the answer." },
  rate_limited: { status: 429, type: "rate_limit_error", hint: "Every target tried is rate limited; see Retry-After." },
  upstream_error: { status: 502, type: "api_error", hint: "Every attempt failed; the message names the last target and why." },
  upstream_timeout: { status: 504, type: "api_error", hint: "Every attempt timed out." },
  no_target_available: { status: 503, type: "overloaded_error", hint: "No target of the route is eligible now; see Retry-After." },
  queue_full: { status: 503, type: "overloaded_error", hint: "Every target is busy and the route's queue is full; see Retry-After." },
  queue_timeout: { status: 503, type: "overloaded_error", hint: "The request waited in the route's queue for its whole timeout; it never reached an upstream." },
  unsupported_field: { status: 400, type: "invalid_request_error", hint: "A field cannot be carried to any eligible target (on_unsupported: reject)." },
  shutting_down: { status: 503, type: "overloaded_error", hint: "The gateway is draining for shutdown." },
  internal_error: { status: 500, type: "api_error", hint: "A bug in the gateway; the log has the request id." },
} as const satisfies Record<string, { status: number; type: string; hint: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  /** Extra response headers (e.g. Retry-After). */
  headers: Record<string, string> | undefined;
  /** The request field at fault (OpenAI's `param`). */
  param: string | null;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; param?: string; headers?: Record<string, string>; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    this.status = options?.status ?? ERRORS[code].status;
    this.type = ERRORS[code].type;
    this.param = options?.param ?? null;
    this.headers = options?.headers;
  }
}

/** A config file or environment that cannot be used; `problems` name each path and issue. */
export class ConfigError extends Error {
  constructor(readonly problems: string[], readonly source: string) {
    super(`invalid config (${source}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}
