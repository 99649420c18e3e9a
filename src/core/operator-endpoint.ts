/**
 * A path the HTTP server answers itself on behalf of a feature above the engine (`/metrics`,
 * `/admin/usage`): the server routes and authorises it, the feature makes the answer. Keeps the
 * server free of metrics and storage libraries.
 */
export interface OperatorEndpoint {
  readonly method: "GET" | "POST";
  readonly path: string;
  /** Needs the admin token when one is set (and is off with the admin API). */
  readonly admin: boolean;
  /** The answer; throw a GatewayError for a client mistake (bad parameters). */
  handle(query: URLSearchParams): Promise<OperatorAnswer> | OperatorAnswer;
}

export interface OperatorAnswer {
  readonly status?: number;
  readonly contentType: string;
  readonly body: string;
}
