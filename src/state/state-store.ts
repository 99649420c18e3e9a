/**
 * Where the policies keep their shared, per-target state (breaker states, benched keys,
 * disabled keys, health verdicts, slow-start ramps): one seam, so one process keeps it in memory
 * and many processes can share it through Redis behind the same interface.
 *
 *   policy ── cell(key, initial) ──► StateCell       (made once, at setup)
 *   hot path ── cell.value ──────────► current state  (a field read: no I/O, no lookup)
 *   change ── store.apply(cell, op, arg, now) ──► new state
 *
 * A change is a named operation, a pure function of (state, arg, now) that returns the next
 * state, or the same object when nothing changes. Being pure and named, it can run atomically
 * where the state lives: a remote store runs it as a compare-and-set on the stored value (or a
 * script), so two processes changing one target never lose an update, and it updates each
 * process's cell.value when a change arrives from elsewhere. States are plain JSON.
 */
export interface StateStore {
  /** The cell of one piece of state, created with `initial` the first time its key is asked for. */
  cell<S>(key: string, initial: S): StateCell<S>;
  /** Applies an operation to a cell atomically and returns the state after it. */
  apply<S, A>(cell: StateCell<S>, op: StateOp<S, A>, arg: A, now: number): S;
  /**
   * Drops every cell of one target (keys `<policy>/<route>/<target>`): it was removed, or now
   * points at another upstream, so what was learnt about it no longer holds.
   */
  forgetTarget(route: string, target: string): void;
  /**
   * How many gateway instances share this state now, for limits each instance keeps a share of
   * (target quotas: the quota divided by it). Absent, or 1: this instance alone.
   */
  sharers?(): number;
  /** Called with the key of a cell changed by someone else (another process); never by memory. */
  onRemoteChange(listener: (key: string) => void): void;
  close(): Promise<void>;
}

/** One piece of state as this process sees it now. */
export interface StateCell<S> {
  readonly key: string;
  readonly value: S;
}

/** A named, pure state change: same (state, arg, now), same result, wherever it runs. */
export interface StateOp<S, A> {
  readonly name: string;
  run(state: S, arg: A, now: number): S;
}

/** Defines an operation; `name` is how a remote store knows it ("breaker.open"). */
export function stateOp<S, A = void>(name: string, run: (state: S, arg: A, now: number) => S): StateOp<S, A> {
  return { name, run };
}
