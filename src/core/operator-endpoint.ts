import type { IncomingHttpHeaders } from "node:http";
import type { z } from "zod";

export type OperatorMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * A path the HTTP server answers itself on behalf of a feature above the engine (`/metrics`,
 * the admin API, the dashboard): the server routes and authorises it, reads and validates its
 * JSON body, and the feature makes the answer. Keeps the server free of metrics and storage
 * libraries, and gives the OpenAPI document one list to describe.
 */
export interface OperatorEndpoint {
  readonly method: OperatorMethod;
  /** The path; `{name}` segments match any one segment, given to handle() as params.name. */
  readonly path: string;
  /** Needs the admin token when one is set (and is off with the admin API). */
  readonly admin: boolean;
  /** One line for the OpenAPI document. */
  readonly summary?: string;
  /** The JSON body it takes: validated before handle() sees it (a 400 naming the fields otherwise). */
  readonly body?: z.ZodType;
  /** Query parameters it reads, for the OpenAPI document. */
  readonly queryParams?: readonly string[];
  /** The answer; throw a GatewayError for a client mistake (bad parameters, unknown target). */
  handle(req: OperatorRequest): Promise<OperatorAnswer> | OperatorAnswer;
}

export interface OperatorRequest {
  readonly query: URLSearchParams;
  /** The `{name}` segments of the path, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The JSON body, parsed and validated by `body` (undefined when the endpoint takes none). */
  readonly body: unknown;
  /** The JSON body as sent, before validation filled defaults (a patch sets only what it names). */
  readonly rawBody: unknown;
  readonly headers: IncomingHttpHeaders;
}

/** A whole answer. */
export interface OperatorDocument {
  readonly status?: number;
  readonly contentType: string;
  readonly body: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A server-sent event stream (the dashboard's live feed): `open` gets the writer and returns
 * what to run when the client leaves.
 */
export interface OperatorStream {
  readonly open: (out: EventStreamWriter) => () => void;
}

export interface EventStreamWriter {
  /** Sends one event (`data` as JSON); false when the client is not keeping up (the caller may skip). */
  send(event: string, data: unknown): boolean;
}

export type OperatorAnswer = OperatorDocument | OperatorStream;

/** A JSON answer. */
export function jsonAnswer(body: unknown, status = 200): OperatorDocument {
  return { status, contentType: "application/json", body: JSON.stringify(body) };
}
