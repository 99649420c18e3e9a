import { createTransport, type Transporter } from "nodemailer";
import type { AlertChannelConfig } from "../../config/alerts-schema.js";
import { type AlertNotice, alertLine, headline, scopeOf } from "./alert-notice.js";
import type { Channel } from "./channel.js";

type EmailConfig = Extract<AlertChannelConfig, { type: "email" }>;

/** One plain-text mail per notice through the configured SMTP server. The transport is made once. */
export class EmailChannel implements Channel {
  readonly type = "email";
  readonly name: string;
  private readonly transport: Transporter;

  constructor(private readonly config: EmailConfig) {
    this.name = config.name;
    const { host, port, secure, user, pass } = config.smtp;
    const t = config.timeout_ms;
    this.transport = createTransport({
      host,
      port,
      secure,
      auth: user === undefined ? undefined : { user, pass },
      connectionTimeout: t,
      greetingTimeout: t,
      socketTimeout: t,
      // nodemailer logs nothing of its own (its debug output would show the AUTH exchange).
      logger: false,
      debug: false,
    });
  }

  async send(notice: AlertNotice, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const sent = this.transport.sendMail({
      from: this.config.from,
      to: [...this.config.to],
      subject: headline(notice),
      text: emailText(notice),
    });
    // sendMail takes no signal: on stop, stop waiting (the socket times out on its own).
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([sent, aborted]);
    } finally {
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
      sent.catch(() => {}); // lost the race: its later failure is of no interest
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** The same facts as the webhook's body, a line each. */
export function emailText(n: AlertNotice): string {
  const lines = [
    alertLine(n),
    "",
    `Status:    ${n.status.toUpperCase()}`,
    `Rule:      ${n.rule} (${n.kind})`,
    `Scope:     ${scopeOf(n)}`,
    `Value:     ${n.value ?? "-"}`,
    `Threshold: ${n.threshold ?? "-"}`,
    `Started:   ${new Date(n.startedAt).toISOString()}`,
  ];
  if (n.resolvedAt !== null) lines.push(`Resolved:  ${new Date(n.resolvedAt).toISOString()}`);
  lines.push("", "-- switchyard");
  return lines.join("\n") + "\n";
}
