import type { ServerResponse } from "node:http";
import type { Surface } from "../config/schema.js";
import type { GatewayError } from "../errors.js";

const GEMINI_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "INVALID_ARGUMENT",
  408: "DEADLINE_EXCEEDED",
  413: "INVALID_ARGUMENT",
  415: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** The error body in the client's dialect; every shape carries the gateway's stable code. */
export function errorBody(surface: Surface, err: GatewayError): unknown {
  switch (surface) {
    case "anthropic":
      return { type: "error", error: { type: err.type, message: err.message, code: err.code } };
    case "gemini":
      return { error: { code: err.status, message: err.message, status: GEMINI_STATUS[err.status] ?? "UNKNOWN", reason: err.code } };
    case "rest":
      return { error: { code: err.code, message: err.message, status: err.status } };
    default:
      return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
  }
}

export function sendError(res: ServerResponse, surface: Surface, err: GatewayError, requestId: string, closeConnection = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(surface, err));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "x-request-id": requestId,
    "x-switchyard-error": err.code,
  };
  if (err.headers) Object.assign(headers, err.headers);
  if (closeConnection) headers.connection = "close";
  res.writeHead(err.status, headers);
  res.end(body);
}
