import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { SeriesCounter, SeriesHistogram } from "../../../plugins/metrics-prometheus/series.js";

describe("metrics-prometheus series", () => {
  it("writes counters in Prometheus text, one line per label set, label values escaped", async () => {
    const registry = new Registry();
    const counter = new SeriesCounter("t_requests_total", "Requests.", ["pipeline", "route"], registry);
    counter.inc(["p", "/v1/chat"]);
    counter.inc(["p", "/v1/chat"], 2);
    counter.inc(["p", 'odd "route"\\']);
    const text = await registry.metrics();
    expect(text).toContain("# TYPE t_requests_total counter");
    expect(text).toContain('t_requests_total{pipeline="p",route="/v1/chat"} 3');
    expect(text).toContain('t_requests_total{pipeline="p",route="odd \\"route\\"\\\\"} 1');
  });

  it("writes histograms with cumulative buckets, +Inf equal to the count, and the sum", async () => {
    const registry = new Registry();
    const histogram = new SeriesHistogram("t_seconds", "Durations.", ["backend"], [0.1, 1], registry);
    for (const v of [0.05, 0.1, 0.5, 3]) histogram.observe(["a"], v);
    const text = await registry.metrics();
    expect(text).toContain("# TYPE t_seconds histogram");
    // A value equal to a bound falls in that bound's bucket (le: less than or equal).
    expect(text).toContain('t_seconds_bucket{backend="a",le="0.1"} 2');
    expect(text).toContain('t_seconds_bucket{backend="a",le="1"} 3');
    expect(text).toContain('t_seconds_bucket{backend="a",le="+Inf"} 4');
    expect(text).toContain('t_seconds_sum{backend="a"} 3.65');
    expect(text).toContain('t_seconds_count{backend="a"} 4');
  });
});
