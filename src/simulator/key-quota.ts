/**
 * Per-key request quota in fixed windows, like a provider's per-key RPM: a key's window opens
 * at its first request and lasts window_s; requests over the quota are refused until it ends.
 * After take(), `remaining` and `resetMs` describe the key's window (for rate-limit headers).
 */
class Window {
  start = 0;
  used = 0;
}

export class KeyQuota {
  readonly #windows = new Map<string, Window>();
  /** Requests left in the key's window after the last take(). */
  remaining = 0;
  /** Ms until the key's window resets, after the last take(). */
  resetMs = 0;

  /** Counts one request for key; false when over quota (the refused request does not count). */
  take(key: string, now: number, requests: number, windowMs: number): boolean {
    let w = this.#windows.get(key);
    if (w === undefined) {
      w = new Window();
      w.start = now;
      this.#windows.set(key, w);
    } else if (now >= w.start + windowMs) {
      w.start = now;
      w.used = 0;
    }
    this.resetMs = w.start + windowMs - now;
    if (w.used >= requests) {
      this.remaining = 0;
      return false;
    }
    w.used++;
    this.remaining = requests - w.used;
    return true;
  }

  clear(): void {
    this.#windows.clear();
  }
}
