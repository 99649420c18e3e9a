import type { GatewayError } from "../../errors.js";
import type { CanonicalError, ErrorType } from "../canonical.js";
import { errorTypeForStatus, fallbackMessage, isRecord } from "../errors.js";
import type { GeminiErrorBody, GeminiStatus } from "./types.js";

/**
 * Gemini errors (google.rpc.Status as JSON): `{"error":{"code","message","status","details"}}`.
 * A 429 whose QuotaFailure names a per-day quota gets code `daily_quota_exceeded`: retrying
 * before tomorrow is pointless (the reference's "not per-day quotas"). A bad API key comes as
 * 400 with ErrorInfo reason API_KEY_INVALID and is read as an authentication error.
 */
export function fromGeminiError(status: number, body: unknown): CanonicalError {
  const err = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const message = typeof err?.message === "string" && err.message ? err.message : fallbackMessage(status, body);
  const out: CanonicalError = { status, type: errorTypeForStatus(status), message };
  const s = err?.status;
  if (typeof s === "string") out.code = s;
  if (status === 429 && isDailyQuota(err?.details)) out.code = "daily_quota_exceeded";
  else if (hasReason(err?.details, "API_KEY_INVALID")) {
    // Gemini answers a bad key with 400 INVALID_ARGUMENT; it is the key, not the request.
    out.type = "authentication_error";
    out.code = "API_KEY_INVALID";
  }
  return out;
}

function hasReason(details: unknown, reason: string): boolean {
  if (!Array.isArray(details)) return false;
  for (const d of details) if (isRecord(d) && d.reason === reason) return true;
  return false;
}

function isDailyQuota(details: unknown): boolean {
  if (!Array.isArray(details)) return false;
  for (const d of details) {
    if (!isRecord(d) || !Array.isArray(d.violations)) continue;
    for (const v of d.violations) if (isRecord(v) && typeof v.quotaId === "string" && v.quotaId.includes("PerDay")) return true;
  }
  return false;
}

const STATUS: Record<ErrorType, GeminiStatus> = {
  invalid_request_error: "INVALID_ARGUMENT",
  authentication_error: "UNAUTHENTICATED",
  permission_error: "PERMISSION_DENIED",
  not_found_error: "NOT_FOUND",
  request_too_large: "INVALID_ARGUMENT",
  rate_limit_error: "RESOURCE_EXHAUSTED",
  api_error: "INTERNAL",
  overloaded_error: "UNAVAILABLE",
};

/**
 * The google.rpc status a Gemini client expects for an HTTP status and error type: by type, but
 * a 502 is UNAVAILABLE, a 504 DEADLINE_EXCEEDED and a 499 CANCELLED whatever the type says.
 * The one table for translated errors, gateway errors and stream errors alike.
 */
export function geminiStatusOf(httpStatus: number, type: ErrorType): GeminiStatus {
  switch (httpStatus) {
    case 502:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    case 499:
      return "CANCELLED";
    default:
      return STATUS[type];
  }
}

/** Canonical → the status and body a Gemini client gets. */
export function toGeminiError(e: CanonicalError): { status: number; body: GeminiErrorBody } {
  const status = e.type === "overloaded_error" ? 503 : e.status;
  return { status, body: { error: { code: status, message: e.message, status: geminiStatusOf(status, e.type) } } };
}

/** A gateway error as a Gemini client sees it; `reason` carries the gateway's stable code. */
export function geminiGatewayError(err: GatewayError): { error: { code: number; message: string; status: GeminiStatus; reason: string } } {
  return { error: { code: err.status, message: err.message, status: geminiStatusOf(err.status, err.type), reason: err.code } };
}
