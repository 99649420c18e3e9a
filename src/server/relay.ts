import type { ServerResponse } from "node:http";
import { pipeline } from "node:stream";
import type { Committed } from "../gateway/attempt-loop.js";
import { clientResponseHeaders } from "../gateway/headers.js";

/**
 * Streams the committed upstream answer to the client chunk by chunk (an SSE stream is never
 * buffered), then ends the attempt. A client that leaves destroys the upstream body, which
 * cancels the upstream call.
 */
export function relay(c: Committed, res: ServerResponse): Promise<void> {
  res.writeHead(c.status, clientResponseHeaders(c.headers, c.target, c.ctx.requestId, c.attempts, true));
  return new Promise((resolve) => {
    pipeline(c.body, res, (err) => {
      if (err === undefined || err === null) c.finish();
      else if (c.ctx.clientGone) c.finish();
      else {
        c.finish("broken_stream", `stream broken after headers: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
        res.destroy();
      }
      resolve();
    });
  });
}
