import { createHmac } from "node:crypto";
import { request } from "undici";
import type { AlertChannelConfig } from "../../config/alerts-schema.js";
import { type AlertNotice, alertLine } from "./alert-notice.js";
import type { Channel } from "./channel.js";

type WebhookConfig = Extract<AlertChannelConfig, { type: "webhook" }>;

export const SIGNATURE_HEADER = "x-switchyard-signature";
export const TIMESTAMP_HEADER = "x-switchyard-timestamp";

/** The JSON a webhook receives; `text` makes it a valid Slack (and Mattermost, Teams workflow) incoming-webhook body. */
export function webhookBody(n: AlertNotice) {
  return {
    text: slackEscape(alertLine(n)),
    status: n.status,
    rule: n.rule,
    kind: n.kind,
    route: n.route,
    target: n.target,
    value: n.value,
    threshold: n.threshold,
    started_at: new Date(n.startedAt).toISOString(),
    ...(n.resolvedAt === null ? {} : { resolved_at: new Date(n.resolvedAt).toISOString() }),
    gateway: "switchyard",
  };
}

/**
 * POSTs each notice as JSON. With a secret, the exact body bytes are signed (HMAC-SHA256, hex) so
 * the receiver can check who sent it; the timestamp header lets it refuse old deliveries (the body's
 * started_at / resolved_at are under the signature too). Any answer but 2xx is a failure.
 */
export class WebhookChannel implements Channel {
  readonly type = "webhook";
  readonly name: string;
  private readonly url: URL;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(private readonly config: WebhookConfig) {
    this.name = config.name;
    this.url = new URL(config.url);
    // The channel's own headers, lower-cased, under the ones this channel must set.
    this.headers = Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k.toLowerCase(), v]));
  }

  async send(notice: AlertNotice, signal: AbortSignal): Promise<void> {
    const body = Buffer.from(JSON.stringify(webhookBody(notice)));
    const headers: Record<string, string> = { ...this.headers, "content-type": "application/json" };
    const secret = this.config.secret;
    if (secret !== undefined) {
      headers[SIGNATURE_HEADER] = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
      headers[TIMESTAMP_HEADER] = String(Math.floor(Date.now() / 1000));
    }
    const timeout = this.config.timeout_ms;
    const res = await request(this.url, {
      method: "POST",
      headers,
      body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeout)]),
    });
    // Read the (small) answer to free the connection; its content is not ours to log.
    await res.body.dump({ limit: 64 * 1024 });
    if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`webhook answered HTTP ${res.statusCode}`);
  }

  close(): void {
    // Connections belong to undici's global pool, shared and closed with the process.
  }
}

/** Slack reads <, > and & as markup: names from the config are shown as they are. */
function slackEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
