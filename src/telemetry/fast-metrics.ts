import type { Registry } from "prom-client";
import { LabelChildren } from "./label-children.js";

/**
 * Counters and histograms for the request path, exposed through prom-client's registry.
 * prom-client's own label children validate and hash their label values on every `inc()` and
 * `observe()` (a string built per call): measured at about a fifth of a proxied request's CPU
 * with the dozen updates a request makes. These keep one plain object per series, found through
 * a tree of Maps (no allocation on a hit), and hand their values to the registry only when it is
 * scraped, in the shape prom-client's own metrics do (`get()`), so the exposition, the content type
 * and the process metrics stay prom-client's.
 */
interface MetricOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}

interface Value {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName?: string;
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}

  inc(v = 1): void {
    this.value += v;
  }
}

export class HistogramSeries {
  /** Per bucket (not cumulative); the last is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += v;
    this.count++;
  }
}

abstract class FastMetric<S extends { labels: Record<string, string> }> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator = "sum";
  protected all: S[] = [];
  private children: LabelChildren<S>;

  constructor(registry: Registry, o: MetricOptions) {
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames;
    this.children = this.tree();
    registry.registerMetric(this as never);
  }

  /** The series of these label values (in labelNames order), made on first use. */
  of(a: string, b?: string, c?: string, d?: string, e?: string): S {
    return this.children.get(a, b, c, d, e);
  }

  reset(): void {
    this.all = [];
    this.children = this.tree();
  }

  protected abstract make(labels: Record<string, string>): S;

  private tree(): LabelChildren<S> {
    return new LabelChildren<S>(this.labelNames.length, (...values) => {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ""));
      const s = this.make(labels);
      this.all.push(s);
      return s;
    });
  }
}

export class FastCounter extends FastMetric<CounterSeries> {
  readonly type = "counter";

  protected make(labels: Record<string, string>): CounterSeries {
    return new CounterSeries(labels);
  }

  /** What the registry reads when scraped. */
  get(): { name: string; help: string; type: string; aggregator: string; values: Value[] } {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.all.map((s) => ({ value: s.value, labels: s.labels })),
    };
  }
}

export class FastHistogram extends FastMetric<HistogramSeries> {
  readonly type = "histogram";
  private readonly bounds: readonly number[];

  constructor(registry: Registry, o: MetricOptions & { readonly buckets: readonly number[] }) {
    super(registry, o);
    this.bounds = [...o.buckets].sort((x, y) => x - y);
  }

  protected make(labels: Record<string, string>): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  /** What the registry reads when scraped: cumulative `_bucket`s with `le`, `_sum`, `_count`. */
  get(): { name: string; help: string; type: string; aggregator: string; values: Value[] } {
    const values: Value[] = [];
    for (const s of this.all) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i] as number;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: i < this.bounds.length ? (this.bounds[i] as number) : "+Inf", ...s.labels },
          value: cumulative,
        });
      }
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
