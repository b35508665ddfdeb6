import { describe, expect, it } from 'vitest';
import { Metrics } from '../../lib/metrics.js';

const value = (text: string, name: string): number => {
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} not in the scrape`);
  return Number(m[1]);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Metrics defaults', () => {
  it('report event-loop delay as lateness: near zero when idle, the stall when the loop is blocked', async () => {
    const m = new Metrics({ defaults: true, prefix: 'cwtest_' });
    await m.registry.metrics(); // starts a fresh interval
    await sleep(1200);
    const idle = await m.registry.metrics();
    // the 100 ms sampling interval is not in the figure (Node's raw histogram never reads below it)
    expect(value(idle, 'cwtest_nodejs_eventloop_lag_min_seconds')).toBeLessThan(0.05);
    expect(value(idle, 'cwtest_nodejs_eventloop_lag_p50_seconds')).toBeLessThan(0.08);
    // Node's histogram drops the first interval after a reset (each scrape resets it): block after it
    await sleep(300);
    const until = Date.now() + 400;
    while (Date.now() < until) {
      // block the event loop for 400 ms
    }
    await sleep(250);
    const blocked = await m.registry.metrics();
    expect(value(blocked, 'cwtest_nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.25);
    // each name appears once (prom-client's own gauges of these names were replaced)
    expect(blocked.match(/^cwtest_nodejs_eventloop_lag_p99_seconds /gm)).toHaveLength(1);
    expect(value(blocked, 'cwtest_process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});
