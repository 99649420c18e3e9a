import type { ServerResponse } from "node:http";
import type { Surface } from "../config/schema.js";
import type { Committed } from "../gateway/attempt-loop.js";
import { clientResponseHeaders } from "../gateway/headers.js";
import { streamErrorEvent } from "./stream-error.js";

/**
 * Streams the committed upstream answer to the client chunk by chunk (an SSE stream is never
 * buffered) with backpressure, then ends the attempt.
 *
 * SSE answers are relayed on event boundaries: a partial event is held until its blank line
 * arrives, so when the upstream breaks mid-stream the client gets whole events, then one
 * well-formed error event in its dialect, then a clean end — never half an event.
 * Other bodies that break are cut off (the connection closes, the client sees a short body).
 * A client that leaves destroys the upstream body, which cancels the upstream call.
 */
export function relay(c: Committed, res: ServerResponse, surface: Surface): Promise<void> {
  const sse = String(c.headers["content-type"] ?? "").startsWith("text/event-stream");
  res.writeHead(c.status, clientResponseHeaders(c.headers, c.target, c.ctx.requestId, c.attempts, !sse));
  const body = c.body;
  return new Promise((resolve) => {
    let held: Buffer | null = null;
    let done = false;
    const write = (chunk: Buffer) => {
      if (sse) {
        if (held !== null) chunk = Buffer.concat([held, chunk]);
        const cut = lastEventEnd(chunk);
        if (cut < chunk.length) {
          held = chunk.subarray(cut);
          if (cut === 0) return;
          chunk = chunk.subarray(0, cut);
        } else held = null;
      }
      if (!res.write(chunk)) body.pause();
    };
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      body.off("data", write);
      res.off("drain", onDrain);
      res.off("close", onClose);
      if (err === null) {
        if (held !== null) res.write(held);
        res.end();
        c.finish();
      } else if (c.ctx.clientGone || res.destroyed) {
        body.destroy();
        c.finish();
      } else {
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        c.finish("broken_stream", `stream broken after the first byte: ${code}`);
        if (sse) res.end(streamErrorEvent(surface, `upstream ${c.target.id} broke off the stream (${code}); the answer is incomplete`));
        else res.destroy();
      }
      resolve();
    };
    const onDrain = () => body.resume();
    const onClose = () => finish(new Error("client closed"));
    if (c.first !== null) write(c.first);
    // A small body may have ended (or broken) already while it waited behind its first chunk.
    if (body.readableEnded) return finish(null);
    if (body.errored !== null || body.destroyed) return finish(body.errored ?? new Error("upstream body closed"));
    body.on("data", write);
    body.once("end", () => finish(null));
    body.once("error", (err) => finish(err));
    res.on("drain", onDrain);
    res.once("close", onClose);
    body.resume();
  });
}

/** Index just past the last "\n\n" (or "\r\n\r\n") in the chunk; 0 when it has none. */
function lastEventEnd(chunk: Buffer): number {
  const lf = chunk.lastIndexOf("\n\n");
  const crlf = chunk.lastIndexOf("\r\n\r\n");
  if (lf === -1 && crlf === -1) return 0;
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4);
}
