import type { StateCell, StateOp, StateStore } from "./state-store.js";

class MemoryCell<S> implements StateCell<S> {
  constructor(
    readonly key: string,
    public value: S,
  ) {}
}

/**
 * The embedded default: state in this process's memory. An operation runs in place of the
 * compare-and-set a shared store would do; a cell asked for twice is the same cell.
 */
export class MemoryStore implements StateStore {
  private readonly cells = new Map<string, MemoryCell<unknown>>();

  cell<S>(key: string, initial: S): StateCell<S> {
    let c = this.cells.get(key) as MemoryCell<S> | undefined;
    if (c === undefined) this.cells.set(key, (c = new MemoryCell<S>(key, initial)));
    return c;
  }

  apply<S, A>(cell: StateCell<S>, op: StateOp<S, A>, arg: A, now: number): S {
    const c = cell as MemoryCell<S>;
    const next = op.run(c.value, arg, now);
    if (next !== c.value) c.value = next;
    return next;
  }

  forgetTarget(route: string, target: string): void {
    const suffix = `/${route}/${target}`;
    for (const key of this.cells.keys())
      if (key.endsWith(suffix) && key.indexOf("/") === key.length - suffix.length) this.cells.delete(key);
  }

  onRemoteChange(): void {
    // Nothing changes this process's state but this process.
  }

  /** Every key and its state (tests, diagnostics). */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.cells].map(([k, c]) => [k, c.value]));
  }

  close(): Promise<void> {
    this.cells.clear();
    return Promise.resolve();
  }
}
