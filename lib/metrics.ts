import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One Prometheus registry per process component, exposed on /metrics. */
export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly histograms = new Map<string, Histogram>();

  constructor(opts: { defaults?: boolean; prefix?: string } = {}) {
    if (opts.defaults)
      collectDefaultMetrics({ register: this.registry, prefix: opts.prefix ?? 'carewatch_' });
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
