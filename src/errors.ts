/**
 * Every error of the gateway, in two catalogues:
 *   - client errors (GatewayError): what a client is answered with, a stable code, an HTTP status
 *     and a type; README's error table mirrors ERRORS;
 *   - internal errors (below): what goes wrong inside an attempt or a translation, each with a
 *     stable code, turned into a GatewayError or an attempt outcome before anyone sees it.
 * Code matches on `code`, never on messages.
 *
 * The client catalogue. Every error the gateway answers with has a stable code, an HTTP status
 * and a type; code matches on `code`, never on messages. README's error table mirrors this list.
 */
export const ERRORS = {
  invalid_json: { status: 400, type: "invalid_request_error", hint: "The request body is not valid JSON." },
  invalid_request: { status: 400, type: "invalid_request_error", hint: "A field is missing or has the wrong type." },
  missing_model: { status: 400, type: "invalid_request_error", hint: "The body has no model field." },
  unauthorized: { status: 401, type: "authentication_error", hint: "The client key is missing or unknown." },
  forbidden: {
    status: 403,
    type: "permission_error",
    hint: "The client key is expired or disabled, or may not use this route or model.",
  },
  budget_exceeded: {
    status: 402,
    type: "invalid_request_error",
    hint: "The client key's or the route's spend cap (daily or monthly, USD) is reached.",
  },
  gateway_rate_limited: {
    status: 429,
    type: "rate_limit_error",
    hint: "The gateway's own inbound limit (key, route or global; requests, tokens or parallel) is reached; see Retry-After and RateLimit.",
  },
  unknown_route: { status: 404, type: "not_found_error", hint: "No route serves this method and path." },
  unknown_model: { status: 404, type: "not_found_error", hint: "No route serves this model on this surface." },
  unknown_target: { status: 404, type: "not_found_error", hint: "The route has no target with this id (admin)." },
  invalid_config: {
    status: 400,
    type: "invalid_request_error",
    hint: "A config change (reload, admin change) does not validate; `errors` names each field. Nothing changed.",
  },
  unknown_key: { status: 404, type: "not_found_error", hint: "No client key has this name (admin)." },
  key_exists: {
    status: 409,
    type: "invalid_request_error",
    hint: "A client key with this name exists, or the key comes from the config file and changes only there (admin).",
  },
  target_exists: { status: 409, type: "invalid_request_error", hint: "The route already has a target with this id (admin)." },
  unknown_action: { status: 404, type: "not_found_error", hint: "No policy of the target answers this admin action." },
  method_not_allowed: { status: 405, type: "invalid_request_error", hint: "The path exists but not for this method." },
  body_too_large: { status: 413, type: "invalid_request_error", hint: "The body is over server.max_body_bytes." },
  unsupported_media_type: { status: 415, type: "invalid_request_error", hint: "Send Content-Type: application/json." },
  client_closed: { status: 499, type: "invalid_request_error", hint: "The client went away before the answer." },
  rate_limited: { status: 429, type: "rate_limit_error", hint: "Every target tried is rate limited; see Retry-After." },
  upstream_error: { status: 502, type: "api_error", hint: "Every attempt failed; the message names the last target and why." },
  upstream_timeout: { status: 504, type: "api_error", hint: "Every attempt timed out." },
  no_target_available: { status: 503, type: "overloaded_error", hint: "No target of the route is eligible now; see Retry-After." },
  queue_full: { status: 503, type: "overloaded_error", hint: "Every target is busy and the route's queue is full; see Retry-After." },
  queue_timeout: {
    status: 503,
    type: "overloaded_error",
    hint: "The request waited in the route's queue for its whole timeout; it never reached an upstream.",
  },
  unsupported_field: {
    status: 400,
    type: "invalid_request_error",
    hint: "A field cannot be carried to any eligible target (on_unsupported: reject).",
  },
  shutting_down: { status: 503, type: "overloaded_error", hint: "The gateway is draining for shutdown." },
  shared_store_unavailable: {
    status: 503,
    type: "api_error",
    hint: "A change that every instance must share (a client key made, changed or deleted) while Redis does not answer; nothing changed (admin).",
  },
  internal_error: { status: 500, type: "api_error", hint: "A bug in the gateway; the log has the request id." },
} as const satisfies Record<string, { status: number; type: string; hint: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: (typeof ERRORS)[ErrorCode]["type"];
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The request field at fault (OpenAI's `param`). */
  readonly param: string | null;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; param?: string; headers?: Record<string, string>; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    this.status = options?.status ?? ERRORS[code].status;
    this.type = ERRORS[code].type;
    this.param = options?.param ?? null;
    this.headers = options?.headers;
  }
}

/** What the client is told of a bug met while serving its request: 500, naming the request id the log has. */
export function internalError(requestId: string): GatewayError {
  return new GatewayError("internal_error", `internal gateway error (request id ${requestId})`);
}

/** A config file or environment that cannot be used; `problems` name each path and issue. */
export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    readonly source: string,
  ) {
    super(`invalid config (${source}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Internal error codes (as undici's core errors): what each means. An attempt's failure is
 * classified by code, never by message.
 */
export const INTERNAL_ERRORS = {
  SWY_ERR_ABORTED: "the upstream call was aborted (client gone, deadline passed)",
  SWY_ERR_CANCELLED: "the attempt lost a hedge race and was cancelled",
  SWY_ERR_FIRST_BYTE_TIMEOUT: "no first byte within the target's first_byte_ms",
  SWY_ERR_ANSWER_TOO_LARGE: "an answer to rewrite is larger than the gateway buffers",
  SWY_ERR_UNSUPPORTED_FIELD: "a request field the target's dialect cannot carry (on_unsupported: reject)",
  SWY_ERR_INVALID_REQUEST: "a client body that does not match its dialect's request shape",
  SWY_ERR_UPSTREAM_MALFORMED: "an upstream 2xx body that is not its dialect's response shape",
} as const;

export type InternalCode = keyof typeof INTERNAL_ERRORS;

/** An error inside the gateway; `code` says which. Preallocated where it carries nothing per call. */
export class InternalError extends Error {
  constructor(
    readonly code: InternalCode,
    message: string = INTERNAL_ERRORS[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "InternalError";
  }
}

/**
 * A request field the target cannot carry, under `on_unsupported: "reject"` (or whatever the
 * mode, for what no mode can send: an embeddings call to Anthropic, a REST vendor path missing its
 * parameter). The attempt loop rules the target out for this request; another may take it.
 */
export class UnsupportedFieldError extends InternalError {
  constructor(
    readonly field: string,
    readonly dialect: string,
    readonly reason: string,
  ) {
    super("SWY_ERR_UNSUPPORTED_FIELD", `${field}: ${reason} (${dialect})`);
    this.name = "UnsupportedFieldError";
  }
}

/**
 * A client body that does not match its dialect's request shape. `field` is the path of the bad
 * value (`messages[2].content`); the client is answered 400 invalid_request naming it.
 */
export class RequestValidationError extends InternalError {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super("SWY_ERR_INVALID_REQUEST", field ? `${field}: ${reason}` : reason);
    this.name = "RequestValidationError";
  }
}

/** An upstream answered 2xx with a body that is not its dialect's response shape: the target's server error. */
export class UpstreamFormatError extends InternalError {
  constructor(detail: string) {
    super("SWY_ERR_UPSTREAM_MALFORMED", `malformed upstream response: ${detail}`);
    this.name = "UpstreamFormatError";
  }
}
