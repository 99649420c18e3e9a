import type { Dialect } from "./canonical.js";
import { UnsupportedFieldError } from "../errors.js";

/** Response header carrying what a translation dropped or changed, "; "-separated. */
export const WARNINGS_HEADER = "x-switchyard-warnings";

/** What to do with a request field the target's dialect cannot carry. */
export type OnUnsupported = "drop" | "reject";

/**
 * Collects what one request translation lost. Two kinds of loss:
 * - `unsupported`: the meaning of the request changes (JSON mode, n > 1): dropped with a warning,
 *   or thrown as UnsupportedFieldError, per the caller's choice;
 * - `note`: harmless or cosmetic (an end-user id, a stripped schema annotation): always a warning,
 *   never a rejection, so strict mode does not make every target ineligible for trivia.
 */
export class Fidelity {
  readonly warnings: string[] = [];
  constructor(
    readonly dialect: Dialect,
    readonly mode: OnUnsupported,
  ) {}

  /** `action` says what drop mode did instead ("dropped", "sent as 1"). */
  unsupported(field: string, reason: string, action = "dropped"): void {
    if (this.mode === "reject") throw new UnsupportedFieldError(field, this.dialect, reason);
    this.warnings.push(`${field}: ${reason}, ${action}`);
  }

  note(field: string, what: string): void {
    this.warnings.push(`${field}: ${what}`);
  }
}

/**
 * The warnings as one header value: ASCII only (header values are Latin-1 and must not carry
 * CR/LF), joined with "; ", capped so a pathological request cannot build a huge header.
 */
export function warningsHeaderValue(warnings: readonly string[], maxLength = 2000): string {
  let out = "";
  for (const w of warnings) {
    const clean = w.replace(/[^\x20-\x7e]/g, "?");
    const next = out ? `${out}; ${clean}` : clean;
    if (next.length > maxLength) return out ? `${out}; ...` : clean.slice(0, maxLength);
    out = next;
  }
  return out;
}
