import type { GatewayError } from "../../errors.js";
import { ERROR_TYPES, type CanonicalError, type ErrorType } from "../canonical.js";
import { errorTypeForStatus, fallbackMessage, isRecord } from "../errors.js";
import type { AnthropicErrorBody } from "./types.js";

const KNOWN: ReadonlySet<string> = new Set(ERROR_TYPES);

/**
 * Anthropic errors: `{"type":"error","error":{"type","message"}}`, the same shape as the
 * in-stream `error` event. Canonical types are Anthropic's, so this direction is lossless.
 */
export function fromAnthropicError(status: number, body: unknown): CanonicalError {
  const err = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const t = err?.type;
  const type: ErrorType = typeof t === "string" && KNOWN.has(t) ? (t as ErrorType) : errorTypeForStatus(status);
  const message = typeof err?.message === "string" && err.message ? err.message : fallbackMessage(status, body);
  return { status, type, message };
}

/** Canonical → the status and body an Anthropic client gets; overloaded is Anthropic's 529. */
export function toAnthropicError(e: CanonicalError): { status: number; body: AnthropicErrorBody } {
  const status = e.type === "overloaded_error" ? 529 : e.status;
  return { status, body: { type: "error", error: { type: e.type, message: e.message } } };
}

/** A gateway error as an Anthropic client sees it, with the gateway's stable code beside the type. */
export function anthropicGatewayError(err: GatewayError): { type: "error"; error: { type: string; message: string; code: string } } {
  return { type: "error", error: { type: err.type, message: err.message, code: err.code } };
}
