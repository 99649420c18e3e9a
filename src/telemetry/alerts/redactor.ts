import type { AlertChannelConfig } from "../../config/alerts-schema.js";

/**
 * Error text from a channel (an HTTP client's or SMTP's message) goes to the log; this blanks
 * anything in it that the alert config holds as a secret: webhook secrets and URLs (a Slack hook's
 * path is its credential), header values, SMTP passwords. Built once at start-up.
 */
export class Redactor {
  private readonly secrets: readonly string[];

  constructor(channels: readonly AlertChannelConfig[]) {
    const found = new Set<string>();
    for (const c of channels) {
      if (c.type === "webhook") {
        if (c.secret !== undefined) found.add(c.secret);
        found.add(c.url);
        const u = new URL(c.url);
        if (u.pathname.length > 1) found.add(u.pathname);
        if (u.search.length > 1) found.add(u.search.slice(1));
        if (u.password !== "") found.add(u.password);
        // A short header value ("1", "yes") is no credential, and blanking it would garble messages.
        for (const v of Object.values(c.headers)) if (v.length >= 4) found.add(v);
      } else if (c.smtp.pass !== undefined) found.add(c.smtp.pass);
    }
    // Longest first, so a URL is blanked whole before its path is looked for.
    this.secrets = [...found].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join("[redacted]");
    return out;
  }
}

/** Why a send failed, in a short line: the error's code and message (an AggregateError's inner ones). */
export function reasonOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(reasonOf).join("; ");
  if (!(err instanceof Error)) return String(err).slice(0, 300);
  const code = (err as { code?: unknown }).code;
  const msg = err.message || err.name;
  const text = typeof code === "string" && !msg.includes(code) ? `${code}: ${msg}` : msg;
  return text.slice(0, 300);
}
