import type { IncomingMessage, ServerResponse } from "node:http";
import type { EventStreamWriter, OperatorDocument, OperatorEndpoint, OperatorStream } from "../core/operator-endpoint.js";
import { GatewayError } from "../errors.js";
import { readBody } from "./body.js";
import { formatPath } from "../config/load.js";

/** Comments sent on an idle event stream so proxies and browsers keep it open. */
const HEARTBEAT_MS = 15_000;

/**
 * Runs one operator endpoint: reads and validates its JSON body when it takes one, then writes
 * its answer, a document or an event stream. Throws GatewayErrors for the server to answer.
 */
export async function serveOperator(
  req: IncomingMessage,
  res: ServerResponse,
  e: OperatorEndpoint,
  params: Readonly<Record<string, string>>,
  query: string,
  requestId: string,
  bodyLimit: number,
): Promise<void> {
  let body: unknown = undefined;
  let rawBody: unknown = undefined;
  if (e.body !== undefined) body = validated(e, (rawBody = parseJson(await readBody(req, bodyLimit))));
  else req.resume();
  const answer = await e.handle({ query: new URLSearchParams(query), params, body, rawBody, headers: req.headers });
  if ("open" in answer) return openStream(req, res, answer, requestId);
  writeDocument(res, answer, requestId);
}

function writeDocument(res: ServerResponse, answer: OperatorDocument, requestId: string): void {
  res.writeHead(answer.status ?? 200, {
    ...answer.headers,
    "content-type": answer.contentType,
    "content-length": Buffer.byteLength(answer.body),
    "x-request-id": requestId,
    "cache-control": answer.headers?.["cache-control"] ?? "no-store",
  });
  res.end(answer.body);
}

function openStream(req: IncomingMessage, res: ServerResponse, answer: OperatorStream, requestId: string): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-store",
    "x-request-id": requestId,
    "x-accel-buffering": "no",
  });
  res.write(": switchyard events\n\n");
  const writer: EventStreamWriter = {
    send(event, data) {
      if (res.writableEnded || res.destroyed) return false;
      // Event names are ours (no CR/LF); data is one JSON line.
      return res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
  };
  const heartbeat = setInterval(() => {
    if (!res.destroyed) res.write(": keep-alive\n\n");
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const close = answer.open(writer);
  let closed = false;
  const done = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    close();
  };
  req.on("close", done);
  res.on("close", done);
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw new GatewayError("invalid_json", `the body is not valid JSON: ${(err as Error).message}`);
  }
}

function validated(e: OperatorEndpoint, body: unknown): unknown {
  const schema = e.body;
  if (schema === undefined) return body;
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
  throw new GatewayError("invalid_request", `invalid body for ${e.method} ${e.path}: ${problems.join("; ")}`);
}
