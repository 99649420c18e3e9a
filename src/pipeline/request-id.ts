import { randomUUID } from "node:crypto";

/** The client's x-request-id when it is sane (≤ 128 printable characters), else a new UUID. Both fronts use it. */
export function requestIdOf(h: string | string[] | undefined): string {
  if (typeof h === "string" && h.length > 0 && h.length <= 128 && /^[\x21-\x7e]+$/.test(h)) return h;
  return randomUUID();
}
