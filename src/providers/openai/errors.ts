import type { GatewayError } from "../../errors.js";
import type { CanonicalError, ErrorType } from "../canonical.js";
import { errorTypeForStatus, fallbackMessage, isRecord } from "../errors.js";

/**
 * OpenAI error bodies: `{"error":{"message","type","param","code"}}`. The SDKs pick the error
 * class by HTTP status; `type` and `code` are what programs match (`insufficient_quota` means
 * never retry this key, `rate_limit_exceeded` means wait).
 */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An upstream's error status and body (parsed JSON or raw text) → canonical. */
export function fromOpenAIError(status: number, body: unknown): CanonicalError {
  const err = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const message = typeof err?.message === "string" && err.message ? err.message : fallbackMessage(status, body);
  const code =
    typeof err?.code === "string"
      ? err.code
      : typeof err?.type === "string" && err.type === "insufficient_quota"
        ? "insufficient_quota"
        : undefined;
  let type: ErrorType = errorTypeForStatus(status);
  if (status === 503 || (status >= 500 && code === "server_is_overloaded")) type = "overloaded_error";
  const out: CanonicalError = { status, type, message };
  if (code !== undefined) out.code = code;
  if (typeof err?.param === "string") out.param = err.param;
  return out;
}

const OPENAI_TYPE: Record<ErrorType, string> = {
  invalid_request_error: "invalid_request_error",
  authentication_error: "invalid_request_error",
  permission_error: "invalid_request_error",
  not_found_error: "invalid_request_error",
  request_too_large: "invalid_request_error",
  rate_limit_error: "rate_limit_error",
  api_error: "server_error",
  overloaded_error: "server_error",
};

/** Canonical → the status and body an OpenAI client gets. */
export function toOpenAIError(e: CanonicalError): { status: number; body: OpenAIErrorBody } {
  let type = OPENAI_TYPE[e.type];
  let code = e.code ?? null;
  if (e.type === "rate_limit_error" && code === "insufficient_quota") type = "insufficient_quota";
  if (e.type === "overloaded_error" && code === null) code = "server_is_overloaded";
  const status = e.type === "overloaded_error" && e.status === 529 ? 503 : e.status;
  return { status, body: { error: { message: e.message, type, param: e.param ?? null, code } } };
}

/** A gateway error as an OpenAI client sees it: the SDK raises it by status; `code` is the gateway's stable code. */
export function openAIGatewayError(err: GatewayError): OpenAIErrorBody {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}
