import type { GatewayError } from "../../errors.js";

/** A gateway error as a REST client sees it: the stable code first, then what happened. */
export function restGatewayError(err: GatewayError): { error: { code: string; message: string; status: number } } {
  return { error: { code: err.code, message: err.message, status: err.status } };
}

/** The event that ends a broken REST event stream (REST has no dialect of its own for this). */
export function restStreamError(message: string): string {
  return `event: error\ndata: ${JSON.stringify({ error: { code: "upstream_stream_broken", message } })}\n\n`;
}
