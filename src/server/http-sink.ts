import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Surface } from "../config/schema.js";
import type { GatewayError } from "../errors.js";
import type { RequestContext } from "../core/request-context.js";
import type { ClientSink, Resumable } from "../pipeline/client-sink.js";
import { sendError } from "./error-response.js";
import { withoutUpstreamCors } from "./cors.js";

const SINK = Symbol("switchyard.sink");
type Res = ServerResponse & { [SINK]?: HttpSink };

/**
 * The server's sink: one client's HTTP response. A client that leaves cancels its upstream
 * call (the context's abort); backpressure waits on the response's drain. Listeners are static
 * functions: no closure per request.
 */
export class HttpSink implements ClientSink {
  private waiting: Resumable | null = null;
  /** CORS is on: the server set the gateway's CORS headers, which an upstream's own must not override. */
  cors = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly ctx: RequestContext,
    /** Errors close the connection while the server drains. */
    private readonly draining: () => boolean,
  ) {
    (res as Res)[SINK] = this;
    // `on`, not `once`: no wrapper closure per request; the response is closed once anyway.
    res.on("close", onClose);
  }

  get gone(): boolean {
    return this.ctx.clientGone || this.res.destroyed;
  }

  get status(): number {
    return this.res.statusCode;
  }

  send(status: number, headers: OutgoingHttpHeaders, body: string | Buffer): void {
    if (this.res.destroyed) return;
    if (this.cors) withoutUpstreamCors(headers);
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  start(status: number, headers: OutgoingHttpHeaders): void {
    if (this.cors) withoutUpstreamCors(headers);
    this.res.writeHead(status, headers);
  }

  write(chunk: string | Buffer): boolean {
    return this.res.write(chunk);
  }

  waitDrain(who: Resumable): void {
    if (this.waiting !== null) return;
    this.waiting = who;
    this.res.once("drain", onDrain);
  }

  end(tail?: string | Buffer): void {
    if (tail === undefined) this.res.end();
    else this.res.end(tail);
  }

  cut(): void {
    this.res.destroy();
  }

  fail(err: GatewayError, surface: Surface): void {
    sendError(this.res, surface, err, this.ctx.requestId, this.draining());
  }

  drained(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.resume();
  }

  closed(): void {
    if (this.res.writableFinished) return;
    this.ctx.clientGone = true;
    this.ctx.abort();
  }
}

function onDrain(this: Res): void {
  this[SINK]?.drained();
}

/** The response closed: before its end, that is the client leaving. */
function onClose(this: Res): void {
  this[SINK]?.closed();
}
