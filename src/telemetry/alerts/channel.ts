import type { AlertNotice } from "./alert-notice.js";

/** Where notices go. `send` rejects on any failure (the delivery retries); it never logs. */
export interface Channel {
  readonly name: string;
  readonly type: "webhook" | "email";
  send(notice: AlertNotice, signal: AbortSignal): Promise<void>;
  /** Releases connections; called once, at stop. */
  close(): void;
}
