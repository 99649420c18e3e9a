import type { ServerResponse } from "node:http";
import type { Surface } from "../config/schema.js";
import type { GatewayError } from "../errors.js";
import { clientErrorBody } from "../providers/client-errors.js";

/**
 * Answers a request with an error in its dialect (nothing, once the response ended). The
 * connection closes while the server drains, and after a refused body: it was not read to its
 * end, and its rest must not be parsed as HTTP.
 */
export function sendError(res: ServerResponse, surface: Surface, err: GatewayError, requestId: string, draining = false): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(clientErrorBody(surface, err));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "x-request-id": requestId,
    "x-switchyard-error": err.code,
  };
  if (err.headers) Object.assign(headers, err.headers);
  if (draining || err.code === "body_too_large" || err.code === "client_closed") headers.connection = "close";
  res.writeHead(err.status, headers);
  res.end(body);
}
