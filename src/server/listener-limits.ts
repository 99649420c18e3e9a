import type { IncomingMessage, Server, ServerOptions, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Config } from "../config/schema.js";

/**
 * What the gateway's listeners do against slow, oversized and malformed clients, set up once per
 * listener from the config's server block (a restart applies changes):
 *
 *   headers_timeout_ms, request_timeout_ms   a slowloris (headers or body) is cut with 408
 *   keep_alive_timeout_ms, max_requests_per_socket   idle and long-lived connections end
 *   max_header_bytes   431 from the parser; max_headers   431 from the server (handle())
 *   strict parsing     smuggling shapes are a 400 and a closed connection
 *   CONNECT            405: the gateway opens no tunnel
 */

/** Sets the limits Node takes as properties, and the answers to what its parser refuses. */
export function guardListener(server: Server, s: Config["server"]): void {
  // One header more than allowed is kept, so the server can tell "too many" from "exactly the limit".
  server.maxHeadersCount = s.max_headers + 1;
  server.maxRequestsPerSocket = s.max_requests_per_socket;
  server.on("clientError", answerClientError);
  server.on("connect", refuseTunnel);
}

/**
 * The listener's limits against slow and oversized clients (server.* in the config). Node checks
 * the two timeouts on a timer (every 30 s by default, which would let a slowloris live up to 30 s
 * past its limit): here every tenth of the shorter one, between 0.25 and 5 s.
 */
export function listenerOptions(s: Config["server"]): ServerOptions {
  // Node refuses a headers timeout longer than the whole request's.
  const headers =
    s.request_timeout_ms > 0 && s.headers_timeout_ms > 0 ? Math.min(s.headers_timeout_ms, s.request_timeout_ms) : s.headers_timeout_ms;
  const shortest = Math.min(headers || Infinity, s.request_timeout_ms || Infinity);
  return {
    requestTimeout: s.request_timeout_ms,
    headersTimeout: headers,
    keepAliveTimeout: s.keep_alive_timeout_ms,
    maxHeaderSize: s.max_header_bytes,
    connectionsCheckingInterval: shortest === Infinity ? 30_000 : Math.max(250, Math.min(5_000, Math.floor(shortest / 10))),
    // Strict parsing whatever --insecure-http-parser or NODE_OPTIONS say: a lenient parser is how
    // smuggled requests (Content-Length with Transfer-Encoding, obs-fold, bare LF) get through.
    insecureHTTPParser: false,
  };
}

/** Raw answers to what Node's parser refused, by its error code (400 for the rest). */
const CLIENT_ERROR_ANSWERS = new Map([
  ["HPE_HEADER_OVERFLOW", rawAnswer("431 Request Header Fields Too Large")],
  ["HPE_CHUNK_EXTENSIONS_OVERFLOW", rawAnswer("413 Payload Too Large")],
  ["ERR_HTTP_REQUEST_TIMEOUT", rawAnswer("408 Request Timeout")],
]);
const BAD_REQUEST = rawAnswer("400 Bad Request");

function rawAnswer(status: string): string {
  return `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
}

/**
 * Malformed or smuggling-shaped HTTP, headers past the limits, a request too slow to arrive:
 * answered with Node's own statuses (431, 408, else 400), never throwing, and nothing written
 * over a response already going out on the socket; then the socket is closed once the answer is
 * flushed: the rest of its bytes cannot be trusted as HTTP, and a half-open socket would stay
 * open for as long as the client likes.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (err.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  socket.end((err.code !== undefined && CLIENT_ERROR_ANSWERS.get(err.code)) || BAD_REQUEST);
  socket.once("finish", destroySocket);
}

/** CONNECT asks for a tunnel, which a gateway never opens (with no listener Node drops the socket without a word). */
function refuseTunnel(_req: IncomingMessage, socket: Duplex): void {
  socket.end(METHOD_NOT_ALLOWED);
  socket.once("finish", destroySocket);
}
const METHOD_NOT_ALLOWED = rawAnswer("405 Method Not Allowed");

function destroySocket(this: Duplex): void {
  this.destroy();
}
