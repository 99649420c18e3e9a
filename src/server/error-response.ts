import type { ServerResponse } from "node:http";
import type { Surface } from "../config/schema.js";
import type { GatewayError } from "../errors.js";
import { clientErrorBody } from "../providers/client-errors.js";

export function sendError(res: ServerResponse, surface: Surface, err: GatewayError, requestId: string, closeConnection = false): void {
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
  if (closeConnection) headers.connection = "close";
  res.writeHead(err.status, headers);
  res.end(body);
}
