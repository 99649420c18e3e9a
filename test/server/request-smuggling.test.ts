/**
 * Requests whose framing two parsers could read differently (the way a request is smuggled past
 * a proxy): each is refused 400 and its connection closed, whatever came before it on the
 * connection, and nothing of it reaches an upstream. Also when Node runs with
 * --insecure-http-parser: the gateway's listener stays strict.
 */
import { test, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simRoute } from "../helpers/sim-route.js";
import { startCli } from "../helpers/cli.js";
import { rawExchange } from "../helpers/raw-socket.js";

const f = await simRoute({ sims: [{ dialect: "rest", name: "api" }], route: { name: "api", surface: "rest", service: "api" } });
const sim = f.sims[0];
after(() => f.close());
beforeEach(() => sim.resetStats());

const HEAD = "POST /rest/api/x HTTP/1.1\r\nhost: gw\r\n";
const SMUGGLED = "GET /rest/api/smuggled HTTP/1.1\r\nhost: gw\r\n\r\n";

/** Each one a request that a lenient parser would frame one way and another parser another way. */
const CASES: readonly (readonly [string, string])[] = [
  ["Content-Length and Transfer-Encoding", `${HEAD}content-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ["Transfer-Encoding then Content-Length", `${HEAD}transfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ["two different Content-Lengths", `${HEAD}content-length: 3\r\ncontent-length: 40\r\n\r\nabc${SMUGGLED}`],
  ["two equal Content-Lengths", `${HEAD}content-length: 3\r\ncontent-length: 3\r\n\r\nabc`],
  ["a Content-Length list", `${HEAD}content-length: 3, 3\r\n\r\nabc`],
  ["a signed Content-Length", `${HEAD}content-length: +3\r\n\r\nabc`],
  ["a negative Content-Length", `${HEAD}content-length: -1\r\n\r\n`],
  ["chunked not last", `${HEAD}transfer-encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n`],
  ["an unknown transfer coding", `${HEAD}transfer-encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`],
  ["a space before the colon", `${HEAD}transfer-encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ["an obs-fold continuation line", `${HEAD}x-a: a\r\n b\r\ncontent-length: 0\r\n\r\n`],
  ["an obs-folded Transfer-Encoding", `${HEAD}transfer-encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ["a chunk size that is not hex", `${HEAD}transfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`],
  ["a chunk size that overflows", `${HEAD}transfer-encoding: chunked\r\n\r\n1${"0".repeat(16)}\r\nabc\r\n0\r\n\r\n`],
  ["a chunk without its CRLF", `${HEAD}transfer-encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n`],
  ["bare LF line ends", "GET /rest/api/x HTTP/1.1\nhost: gw\n\n"],
  ["a bare CR in a header", `${HEAD}x-a: a\rb\r\ncontent-length: 0\r\n\r\n`],
  ["a NUL in a header", `${HEAD}x-a: a\0b\r\ncontent-length: 0\r\n\r\n`],
  ["no Host", "GET /rest/api/x HTTP/1.1\r\n\r\n"],
  ["an HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"],
  ["a TLS hello", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"],
];

for (const [name, bytes] of CASES)
  test(`smuggling shape refused 400, connection closed, upstream untouched: ${name}`, async () => {
    const r = await rawExchange(f.url, [Buffer.from(bytes, "latin1")]);
    assert.deepEqual(r.statuses, [400]);
    assert.ok(r.closedByServer, "the server closed the connection");
    assert.equal(sim.stats().requests, 0);
  });

test("after a good request on the same keep-alive connection, a smuggling shape is still refused and nothing after it is read", async () => {
  const good = "GET /rest/api/first HTTP/1.1\r\nhost: gw\r\n\r\n";
  const r = await rawExchange(f.url, [good, `${HEAD}content-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`], {
    inTurn: true,
  });
  assert.deepEqual(r.statuses, [200, 400]);
  assert.ok(r.closedByServer);
  assert.deepEqual(
    sim.stats().log.map((e) => e.path),
    ["/first"],
  );
});

test("under --insecure-http-parser the gateway's listener is still strict", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-smuggling-"));
  const file = join(dir, "switchyard.yaml");
  writeFileSync(
    file,
    `server: { port: 0 }
log: { level: warn }
routes:
  - { name: api, surface: rest, service: api, targets: [{ id: api, provider: rest, base_url: "${sim.url}" }] }
`,
  );
  const ready = /listening on (http:\/\/\S+) \(/;
  const cli = await startCli(["start", "--config", file], ready, { NODE_OPTIONS: "--insecure-http-parser" });
  try {
    const url = ready.exec(cli.output())?.[1] as string;
    const r = await rawExchange(url, [`${HEAD}content-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`]);
    assert.deepEqual(r.statuses, [400]);
    assert.ok(r.closedByServer);
    assert.equal(sim.stats().requests, 0);
    // The control: in that environment a plain node:http server does take the smuggled request.
    assert.equal(lenientAnswers({ NODE_OPTIONS: "--insecure-http-parser" }), 2);
  } finally {
    cli.child.kill("SIGTERM");
    await cli.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

/** How many answers a plain node:http server (in a child with `env`) gives to the Content-Length + Transfer-Encoding request. */
function lenientAnswers(env: NodeJS.ProcessEnv): number {
  const script = `
const http = require("node:http"), net = require("node:net");
const srv = http.createServer((q, s) => { q.resume(); q.on("end", () => s.end("ok")); }).listen(0, "127.0.0.1", () => {
  const c = net.connect(srv.address().port, "127.0.0.1"); let out = "";
  c.on("data", (d) => (out += d)); c.on("close", () => { console.log(out.split("HTTP/1.1 200").length - 1); srv.close(); });
  c.end(${JSON.stringify(`${HEAD}content-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED.replace("\r\n\r\n", "\r\nconnection: close\r\n\r\n")}`)});
});`;
  const out = execFileSync(process.execPath, ["-e", script], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 10_000 });
  return Number(out.trim());
}
