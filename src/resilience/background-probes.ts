/**
 * The background side of a policy that probes targets (key disable, breaker recovery): one
 * unref'd ticker that asks the policy which probes are due, the probes still running (stop()
 * waits for them), and the signal that aborts them at shutdown.
 */
export class BackgroundProbes {
  private ticker: NodeJS.Timeout | null = null;
  private stopping = new AbortController();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly onTick: () => void) {}

  /** Aborts the probes running when stop() is called. */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  start(tickMs: number): void {
    if (this.ticker !== null) return;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    this.ticker = setInterval(this.onTick, tickMs);
    this.ticker.unref();
  }

  async stop(): Promise<void> {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    this.stopping.abort();
    await Promise.all([...this.running]);
  }

  /** Keeps track of a probe until it ends; returns it. */
  track(probe: Promise<void>): Promise<void> {
    this.running.add(probe);
    void probe.finally(() => this.running.delete(probe));
    return probe;
  }
}
