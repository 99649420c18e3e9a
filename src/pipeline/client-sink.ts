import type { OutgoingHttpHeaders } from "node:http";
import type { Surface } from "../config/schema.js";
import type { GatewayError } from "../errors.js";

/** Someone a streamed answer waits on: resume() once the client can take more. */
export interface Resumable {
  resume(): void;
}

/**
 * Where one answer goes: a client's HTTP response (the server), or a buffer the library hands
 * back. The pipeline decides what to send and when; a sink only carries it.
 */
export interface ClientSink {
  /** The client went away (its connection closed, or the library caller aborted). */
  readonly gone: boolean;
  /** The status sent, for the request event (0 before anything was). */
  readonly status: number;
  /** A whole answer at once. */
  send(status: number, headers: OutgoingHttpHeaders, body: string | Buffer): void;
  /** A streamed answer: status and headers now, the body as it comes. */
  start(status: number, headers: OutgoingHttpHeaders): void;
  /** One chunk of a streamed answer; false asks the caller to wait for resume(). */
  write(chunk: string | Buffer): boolean;
  /** After write() said false: calls `who.resume()` once the client can take more. */
  waitDrain(who: Resumable): void;
  /** The end of a streamed answer, with its last bytes. */
  end(tail?: string | Buffer): void;
  /** Cuts a streamed answer short: its body broke and its format has no error event. */
  cut(): void;
  /** An error before anything was sent: the client's dialect (server), a thrown error (library). */
  fail(err: GatewayError, surface: Surface): void;
}
