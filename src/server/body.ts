import type { IncomingMessage } from "node:http";
import { GatewayError } from "../errors.js";

const EMPTY = Buffer.alloc(0);

/**
 * Reads the whole request body, refusing more than `limit` bytes: at once from Content-Length,
 * or as soon as the running total passes the limit.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> | Buffer {
  const declared = req.headers["content-length"];
  // No body announced (a GET, or Content-Length: 0): nothing to wait for.
  if ((declared === undefined || declared === "0") && req.headers["transfer-encoding"] === undefined) {
    if (!req.complete) req.resume();
    return EMPTY;
  }
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume(); // discard the rest; the error response closes the connection
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length > 1 ? Buffer.concat(chunks, size) : (chunks[0] ?? EMPTY));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new GatewayError("client_closed", `client connection failed while sending the body: ${err.message}`));
    };
    const onAborted = () => {
      cleanup();
      reject(new GatewayError("client_closed", "client closed the connection while sending the body"));
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onClose = () => {
      if (!req.complete) onAborted();
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError("body_too_large", `request body is larger than the limit of ${limit} bytes (server.max_body_bytes)`);
}
