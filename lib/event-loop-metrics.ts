import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** The statistics prom-client's default metrics give for event-loop delay, by name suffix. */
const STATS = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const;
type Stat = (typeof STATS)[number];

export const loopLagName = (prefix: string, stat: Stat): string =>
  `${prefix}nodejs_eventloop_lag_${stat}_seconds`;

/**
 * Event-loop delay sampled every `sampleMs`, under prom-client's metric names,
 * with the sampling interval taken out.
 *
 * Node's `monitorEventLoopDelay` records the whole time between two of its
 * timer callbacks, interval included: prom-client's figures (at its default
 * 10 ms) never read below 10 ms, and at the 100 ms used here an idle process
 * would show 100 ms of "lag". These gauges report how late each sample came
 * (zero when on time), reset at every scrape like prom-client's (Node's
 * histogram then skips the first interval after the scrape). Call after
 * `collectDefaultMetrics`: the same names registered there are replaced.
 */
export function registerLoopDelay(registry: Registry, prefix: string, sampleMs: number): void {
  for (const s of STATS) registry.removeSingleMetric(loopLagName(prefix, s));
  const h = monitorEventLoopDelay({ resolution: sampleMs });
  h.enable();
  const late = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e9 - sampleMs / 1000) : 0);
  const values: Record<Stat, () => number> = {
    min: () => late(h.min),
    max: () => late(h.max),
    // the mean and the spread of the lateness: the interval shifts the mean, not the spread
    mean: () => late(h.mean),
    stddev: () => (Number.isFinite(h.stddev) ? h.stddev / 1e9 : 0),
    p50: () => late(h.percentile(50)),
    p90: () => late(h.percentile(90)),
    p99: () => late(h.percentile(99)),
  };
  const gauges = new Map<Stat, Gauge>();
  for (const s of STATS) {
    gauges.set(
      s,
      new Gauge({
        name: loopLagName(prefix, s),
        help: `Event-loop delay, ${s}, since the last scrape: how late a ${sampleMs} ms timer fired.`,
        registers: [registry],
        // the first gauge's collect (scrapes read gauges in registration order) sets them all
        ...(s === 'min'
          ? {
              collect: () => {
                for (const [stat, g] of gauges) g.set(h.count > 0 ? values[stat]() : 0);
                h.reset();
              },
            }
          : {}),
      }),
    );
  }
}
