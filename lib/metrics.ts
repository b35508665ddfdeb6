import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { registerLoopDelay } from './event-loop-metrics.js';

/**
 * How often the event-loop lag is sampled. prom-client's default (10 ms) is a
 * timer that wakes the process 100 times a second: on a gateway that is
 * otherwise idle between segments, that timer was most of its CPU (measured
 * with 64 cameras, see docs/benchmarks.md). A 100 ms sample still sees every
 * stall longer than 100 ms and shorter ones in proportion (the figures are how
 * late a sample came, see `registerLoopDelay`).
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** One Prometheus registry per process component, exposed on /metrics. */
export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly histograms = new Map<string, Histogram>();

  constructor(opts: { defaults?: boolean; prefix?: string; eventLoopSampleMs?: number } = {}) {
    if (opts.defaults) {
      const prefix = opts.prefix ?? 'carewatch_';
      collectDefaultMetrics({
        register: this.registry,
        prefix,
        // its own delay histogram is replaced below; a slow timer keeps it from waking the process
        eventLoopMonitoringPrecision: 60_000,
      });
      registerLoopDelay(this.registry, prefix, opts.eventLoopSampleMs ?? EVENT_LOOP_SAMPLE_MS);
    }
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    let c = this.counters.get(name);
    if (!c) {
      c = new Counter({ name, help, labelNames, registers: [this.registry] });
      this.counters.set(name, c);
    }
    return c;
  }

  gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    let g = this.gauges.get(name);
    if (!g) {
      g = new Gauge({ name, help, labelNames, registers: [this.registry] });
      this.gauges.set(name, g);
    }
    return g;
  }

  histogram(name: string, help: string, buckets: number[], labelNames: string[] = []): Histogram {
    let h = this.histograms.get(name);
    if (!h) {
      h = new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
      this.histograms.set(name, h);
    }
    return h;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
