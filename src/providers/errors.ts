import type { CanonicalError, ErrorType } from "./canonical.js";

/** The canonical error type an HTTP status means when the body says nothing better. */
export function errorTypeForStatus(status: number): ErrorType {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

/** The status to answer with for a canonical type whose status is unknown (mid-stream errors). */
export function statusForErrorType(type: ErrorType): number {
  switch (type) {
    case "invalid_request_error":
      return 400;
    case "authentication_error":
      return 401;
    case "permission_error":
      return 403;
    case "not_found_error":
      return 404;
    case "request_too_large":
      return 413;
    case "rate_limit_error":
      return 429;
    case "overloaded_error":
      return 503;
    default:
      return 500;
  }
}

/** A short message from an error body that is not in the expected shape (HTML from a proxy, plain text). */
export function fallbackMessage(status: number, body: unknown): string {
  if (typeof body === "string" && body.length > 0) return body.length > 300 ? `${body.slice(0, 300)}…` : body;
  return `upstream answered HTTP ${status}`;
}

/** The canonical error for an upstream stream that ended before its end marker. */
export function truncatedStreamError(what: string): CanonicalError {
  return { status: 502, type: "api_error", message: `upstream stream ended before ${what}`, code: "stream_truncated" };
}

/** The canonical error for an upstream stream event that is not valid JSON or not the expected shape. */
export function malformedStreamError(detail: string): CanonicalError {
  return { status: 502, type: "api_error", message: `malformed upstream stream event: ${detail}`, code: "stream_malformed" };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
