type Level = Map<string, unknown>;

/**
 * The label children of one metric, in a tree of Maps keyed by label values, so the request path
 * finds a series with a few Map lookups and no allocation (prom-client's `labels()` hashes its
 * arguments into a string on every call). A child is made once, on the first use of its labels.
 */
export class LabelChildren<C> {
  private readonly root: Level = new Map();

  constructor(
    private readonly arity: number,
    private readonly make: (...labels: string[]) => C,
  ) {}

  get(a: string, b = "", c = "", d = "", e = ""): C {
    const n = this.arity;
    let m = this.root;
    if (n > 1) m = step(m, a);
    if (n > 2) m = step(m, b);
    if (n > 3) m = step(m, c);
    if (n > 4) m = step(m, d);
    const last = n === 1 ? a : n === 2 ? b : n === 3 ? c : n === 4 ? d : e;
    let child = m.get(last) as C | undefined;
    if (child === undefined) m.set(last, (child = this.make(...[a, b, c, d, e].slice(0, n))));
    return child;
  }
}

function step(m: Level, key: string): Level {
  let next = m.get(key) as Level | undefined;
  if (next === undefined) m.set(key, (next = new Map()));
  return next;
}
