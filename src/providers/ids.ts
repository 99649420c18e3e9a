import { randomBytes } from "node:crypto";

/**
 * Ids for objects a translation has to invent (a Gemini answer has no tool-call ids; a client of
 * another dialect expects `msg_…` or `chatcmpl-…`). Random bytes are drawn in blocks, so an id
 * costs a slice of a pooled buffer, not a syscall.
 */
const POOL_SIZE = 4096;
const ID_BYTES = 12;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function randomHex(): string {
  if (offset + ID_BYTES > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const s = pool.toString("hex", offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return s;
}

export function newId(prefix: "chatcmpl-" | "msg_" | "call_" | "toolu_" | "resp_"): string {
  return prefix + randomHex();
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
