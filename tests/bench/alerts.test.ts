import { describe, expect, it } from 'vitest';
import { benchFanout } from '../../bench/alerts-fanout.js';
import { benchRules } from '../../bench/alerts-rules.js';

describe('bench:alerts, at a tiny size', () => {
  it('(a) drives every stream through the alert service and reports the changes it made', async () => {
    const rows = await benchRules({ events: 30, batch: 10 });
    expect(rows.map((r) => [r.events, r.changes, r.alertUpdates])).toEqual([
      [30, {}, 0],
      [30, { opened: 30 }, 30],
      [30, { repeated: 30 }, 30],
      [30, { resolved: 30 }, 30],
    ]);
    for (const r of rows) {
      for (const rate of [
        r.baselineEventsPerS,
        r.perEventCommitEventsPerS,
        r.eventsPerS,
        r.alertStepEventsPerS,
      ])
        expect(Number.isFinite(rate) && rate > 0).toBe(true);
      // the end-to-end path includes the alert step, so it cannot be faster than it
      expect(r.eventsPerS).toBeLessThanOrEqual(r.alertStepEventsPerS);
    }
  }, 60_000);

  it('(b) delivers every broadcast to every client, from the central and from the bare server', async () => {
    const clients = 12;
    const alerts = 2;
    const f = await benchFanout({ clients, alerts });
    expect(f.central.map((r) => [r.broadcasts, r.deliveries, r.missing])).toEqual([
      [alerts, alerts * clients, 0],
      [alerts, alerts * clients, 0],
      [alerts, alerts * clients, 0],
    ]);
    expect([f.baseline.broadcasts, f.baseline.deliveries, f.baseline.missing]).toEqual([
      3 * alerts,
      3 * alerts * clients,
      0,
    ]);
    expect(f.messageBytes).toBeGreaterThan(100);
    for (const r of [...f.central, f.baseline]) {
      expect(r.all.p50).toBeGreaterThan(0);
      expect(r.last.max).toBeGreaterThanOrEqual(r.first.p50);
    }
  }, 90_000);
});
