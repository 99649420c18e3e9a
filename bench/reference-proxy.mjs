#!/usr/bin/env node
/**
 * The reference proxy: the least a Node gateway must do, and so the floor any Node gateway
 * stands on. node:http in front, one undici Pool per upstream origin behind (same pool options
 * as Switchyard's), round-robin over the upstreams, request body piped up and response body
 * piped back. No routing, no JSON parsing, no retries, no logging, no metrics; hop-by-hop
 * headers are handled only as far as undici and node:http require.
 *
 *   node bench/reference-proxy.mjs --port 18081 --upstream http://127.0.0.1:18090 [--upstream ...] [--relay pipe|pipeline]
 *
 * --relay pipe (default) relays the response with readable.pipe() and a close listener;
 * --relay pipeline uses stream.pipeline(), which is safer but costs an AbortController and a
 * DOMException (with its stack trace) per call in Node 20: measurable at proxy rates.
 *
 * Prints `reference-proxy listening on http://127.0.0.1:PORT` when ready; SIGTERM/SIGINT stop it.
 */
import { createServer } from "node:http";
import { pipeline } from "node:stream";
import { parseArgs } from "node:util";
import { Pool } from "undici";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "18081" },
    host: { type: "string", default: "127.0.0.1" },
    upstream: { type: "string", multiple: true },
    relay: { type: "string", default: "pipe" },
  },
});
const upstreams = values.upstream ?? [];
const usePipeline = values.relay === "pipeline";
if (values.relay !== "pipe" && !usePipeline) {
  console.error("reference-proxy: --relay must be pipe or pipeline");
  process.exit(2);
}
if (upstreams.length === 0) {
  console.error("reference-proxy: give at least one --upstream http://host:port");
  process.exit(2);
}

const pools = upstreams.map(
  (origin) => new Pool(origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 }),
);
let next = 0;

// undici refuses these request headers (or they make no sense one hop further); node:http
// manages these response headers itself.
const REQUEST_SKIP = new Set(["host", "connection", "keep-alive", "transfer-encoding", "upgrade", "expect", "proxy-connection"]);
const RESPONSE_SKIP = new Set(["connection", "keep-alive", "transfer-encoding"]);

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const pool = pools[next];
  next = next + 1 === pools.length ? 0 : next + 1;
  const headers = {};
  for (const name in req.headers) if (!REQUEST_SKIP.has(name)) headers[name] = req.headers[name];
  const length = req.headers["content-length"];
  const hasBody = (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
  if (!hasBody) req.resume();
  pool.request({ path: req.url, method: req.method, headers, body: hasBody ? req : null }, (err, up) => {
    if (err) {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`reference-proxy: upstream failed: ${err.code ?? err.message}\n`);
      } else res.destroy();
      return;
    }
    const out = {};
    for (const name in up.headers) if (!RESPONSE_SKIP.has(name)) out[name] = up.headers[name];
    res.writeHead(up.statusCode, out);
    if (usePipeline) {
      pipeline(up.body, res, (e) => {
        if (e) res.destroy();
      });
      return;
    }
    const body = up.body;
    body.on("error", () => res.destroy());
    res.on("close", () => {
      if (!res.writableFinished) body.destroy(); // the client left: cancel the upstream call
    });
    body.pipe(res);
  });
});

server.listen(Number(values.port), values.host, () => {
  const a = server.address();
  console.log(
    `reference-proxy listening on http://${a.address}:${a.port} (${upstreams.length} upstream${upstreams.length === 1 ? "" : "s"})`,
  );
});

function stop() {
  server.close();
  server.closeAllConnections();
  Promise.all(pools.map((p) => p.destroy().catch(() => {}))).finally(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
