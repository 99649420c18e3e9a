import type { OutgoingHttpHeaders } from "node:http";
import { z } from "zod";
import { GatewayError } from "../errors.js";

/**
 * The WebSocket front's wire protocol: JSON text messages, each tagged with the client's
 * request id (README "WebSocket streaming").
 *
 *   client → gateway   {"type":"request","id","path"?,"headers"?,"body"}   {"type":"cancel","id"}
 *   gateway → client   {"type":"event","id","event"?,"data"}  … then {"type":"done","id","status"}
 *                      {"type":"response","id","status","body"}
 *                      {"type":"error","id"|null,"status","error"}
 *                      the first message of each answer also carries "headers"
 *
 * Parsing checks a message once with a schema; the gateway's messages are written as strings
 * (an event's data, already JSON, is spliced in as it came: never parsed into objects and
 * serialised again).
 */

/** The WebSocket endpoint (main listener only). */
export const STREAM_PATH = "/v1/stream";
/** The path of a request message that names none. */
export const DEFAULT_PATH = "/v1/chat/completions";

/** A header name as RFC 9110 allows it (a token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value without CR, LF, NUL or other controls (it may be sent upstream as is). */
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Headers a message may not set: the connection's credentials apply to each of its requests, and
 * the framing headers are the gateway's.
 */
const RESERVED = new Set([
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "x-goog-api-key",
  "api-key",
  "cookie",
  "host",
  "content-type",
  "content-length",
  "transfer-encoding",
  "connection",
  "upgrade",
  "keep-alive",
  "te",
  "trailer",
  "expect",
]);

const id = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(128, { error: "must be at most 128 characters" });

const requestSchema = z
  .object({
    type: z.literal("request"),
    id,
    path: z
      .string({ error: "must be a string" })
      .max(2048, { error: "must be at most 2048 characters" })
      .startsWith("/", { error: 'must start with "/"' })
      .optional(),
    headers: z
      .record(
        z.string().regex(TOKEN, { error: "is not a header name" }).max(256, { error: "is too long" }),
        z.string({ error: "must be a string" }).max(8192, { error: "must be at most 8192 characters" }).regex(VALUE, {
          error: "must not contain control characters",
        }),
      )
      .optional(),
    body: z.unknown().optional(),
  })
  .strict();

const cancelSchema = z.object({ type: z.literal("cancel"), id }).strict();

const messageSchema = z.discriminatedUnion("type", [requestSchema, cancelSchema], {
  error: 'type: must be "request" or "cancel"',
});

/** A request message, checked: path split from its query, header names in lower case. */
export interface RequestMessage {
  readonly type: "request";
  readonly id: string;
  /** The LLM path, as an HTTP POST would name it (without its query). */
  readonly path: string;
  /** The path's query without "?" ("alt=sse"), or "". */
  readonly query: string;
  /** The message's own headers (lower-case names), or undefined. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The request body (any JSON; the pipeline checks it as it checks an HTTP body). */
  readonly body: unknown;
}

/** A cancel message. */
export interface CancelMessage {
  readonly type: "cancel";
  readonly id: string;
}

export type ClientMessage = RequestMessage | CancelMessage;

/** A message the gateway cannot take: answered with an error message, the connection stays open. */
export class ProtocolError {
  constructor(
    /** The message's id when it had a usable one, else null. */
    readonly id: string | null,
    readonly error: GatewayError,
  ) {}
}

/** Parses and checks one text message from a client; never throws. */
export function parseClientMessage(text: string): ClientMessage | ProtocolError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return new ProtocolError(null, new GatewayError("invalid_json", `the message is not valid JSON: ${(err as Error).message}`));
  }
  const parsed = messageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "" : `${issue.path.join(".")}: `;
    const detail = issue === undefined ? "invalid message" : `${where}${issue.message}`;
    return new ProtocolError(idOf(json), new GatewayError("invalid_request", `invalid message: ${detail}`));
  }
  const m = parsed.data;
  if (m.type === "cancel") return m;
  if (m.body === undefined)
    return new ProtocolError(
      m.id,
      new GatewayError("invalid_request", "invalid message: body: is required (the JSON body an HTTP POST would send)"),
    );
  let headers: Record<string, string> | undefined;
  if (m.headers !== undefined)
    for (const name of Object.keys(m.headers)) {
      const lower = name.toLowerCase();
      if (RESERVED.has(lower) || lower.startsWith("sec-websocket-"))
        return new ProtocolError(
          m.id,
          new GatewayError("invalid_request", `headers.${lower}: cannot be set per message; the connection's own apply to every request`),
        );
      (headers ??= {})[lower] = m.headers[name] as string;
    }
  const full = m.path ?? DEFAULT_PATH;
  const q = full.indexOf("?");
  return {
    type: "request",
    id: m.id,
    path: q === -1 ? full : full.slice(0, q),
    query: q === -1 ? "" : full.slice(q + 1),
    headers,
    body: m.body,
  };
}

/** The id of a message that failed its check, when it has a usable one. */
function idOf(json: unknown): string | null {
  if (json === null || typeof json !== "object") return null;
  const v = (json as { id?: unknown }).id;
  return typeof v === "string" && v.length > 0 && v.length <= 128 ? v : null;
}

/** Answer headers a client may need (request id, target, attempts, limits), the rest (framing, upstream noise) left out. */
const KEPT = new Set(["x-request-id", "retry-after", "ratelimit", "ratelimit-policy"]);
const KEPT_PREFIXES = ["x-switchyard-", "x-ratelimit-", "anthropic-ratelimit-"];

/** The kept answer headers as a JSON object text ("{}" when none). */
export function headersJson(h: OutgoingHttpHeaders): string {
  const out: Record<string, string> = {};
  for (const name in h) {
    const v = h[name];
    if (v === undefined || !kept(name)) continue;
    out[name] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return JSON.stringify(out);
}

function kept(name: string): boolean {
  if (KEPT.has(name)) return true;
  for (const p of KEPT_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}

/** The `"id":…` member of a request's messages, made once per request. */
export function idMember(id: string | null): string {
  return `"id":${id === null ? "null" : JSON.stringify(id)}`;
}

/**
 * A text as a JSON value: itself when it is JSON, else a JSON string ("" → null). Parsed only to
 * check it: an upstream's data is not trusted to be JSON, and one bad event must not break the
 * client's parse of the whole message.
 */
export function jsonValue(text: string): string {
  if (text.length === 0) return "null";
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}

/** One SSE event of a streamed answer. `headers`: the answer's, on its first message only (else null). */
export function eventMessage(idm: string, event: string | undefined, data: string, headers: string | null): string {
  const name = event === undefined ? "" : `,"event":${JSON.stringify(event)}`;
  const h = headers === null ? "" : `,"headers":${headers}`;
  return `{"type":"event",${idm}${name}${h},"data":${jsonValue(data)}}`;
}

/** The end of a streamed answer. */
export function doneMessage(idm: string, status: number, headers: string | null): string {
  return `{"type":"done",${idm},"status":${status}${headers === null ? "" : `,"headers":${headers}`}}`;
}

/** A whole (non-streamed) answer; `body` is its text. */
export function responseMessage(idm: string, status: number, headers: string | null, body: string): string {
  return `{"type":"response",${idm},"status":${status}${headers === null ? "" : `,"headers":${headers}`},"body":${jsonValue(body)}}`;
}

/** A failure: the status and error body HTTP would have sent, in the request's dialect. */
export function errorMessage(idm: string, status: number, headers: string | null, error: unknown): string {
  return `{"type":"error",${idm},"status":${status}${headers === null ? "" : `,"headers":${headers}`},"error":${JSON.stringify(error)}}`;
}
