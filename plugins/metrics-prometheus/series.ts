/**
 * Counters and histograms for the request path, registered in a prom-client Registry as custom
 * metrics (an object with `get()`, which the registry formats at scrape time). prom-client's own
 * Counter and Histogram check and hash their label object on every increment; these keep each
 * series in a Map under its label values joined, so a finished request costs a few Map lookups
 * and additions (measured with one record through the step: about 6 µs of CPU per request with
 * prom-client's metrics, 1.3 µs with these; the bar for metrics on is 3% of a request's CPU).
 */
import type { Metric, Registry } from "prom-client";

/** Label values never hold this (they come from pipeline files and closed sets), so joined values are unique keys. */
const SEPARATOR = "\u0001";

interface MetricValue {
  labels: Record<string, string>;
  value: number;
  metricName?: string;
}

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  names.forEach((name, i) => (labels[name] = values[i]!));
  return labels;
}

abstract class Series<S> {
  protected readonly series = new Map<string, { labels: Record<string, string>; state: S }>();

  constructor(readonly name: string, readonly help: string, private readonly labelNames: readonly string[], registry: Registry) {
    registry.registerMetric(this as unknown as Metric);
  }

  protected stateOf(values: readonly string[]): S {
    const key = values.join(SEPARATOR);
    let entry = this.series.get(key);
    if (entry === undefined) this.series.set(key, (entry = { labels: labelsOf(this.labelNames, values), state: this.fresh() }));
    return entry.state;
  }

  protected abstract fresh(): S;
}

export class SeriesCounter extends Series<{ value: number }> {
  readonly type = "counter";

  inc(values: readonly string[], by = 1): void {
    this.stateOf(values).value += by;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values = [...this.series.values()].map(({ labels, state }) => ({ labels, value: state.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: "sum", values };
  }

  protected fresh() {
    return { value: 0 };
  }
}

export class SeriesHistogram extends Series<{ counts: number[]; sum: number; count: number }> {
  readonly type = "histogram";

  constructor(name: string, help: string, labelNames: readonly string[], private readonly bounds: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
  }

  observe(values: readonly string[], value: number): void {
    const state = this.stateOf(values);
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    state.counts[i]!++;
    state.sum += value;
    state.count++;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const { labels, state } of this.series.values()) {
      // Prometheus buckets are cumulative: each counts every observation at or below its bound.
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += state.counts[i]!;
        values.push({ labels: { ...labels, le: String(bound) }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: "+Inf" }, value: state.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: state.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: state.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: "sum", values };
  }

  protected fresh() {
    return { counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
  }
}
