import { afterEach, describe, expect, it } from 'vitest';
import { createCentralBus, type StoredEventNotice } from '../../central/bus.js';
import { UnprocessedSweeper } from '../../central/redeliver.js';
import { ManualClock } from '../../lib/clock.js';
import { Metrics } from '../../lib/metrics.js';
import { tempDir, until } from '../../lib/testkit/procs.js';
import { buildEnvelope } from '../../protocol/index.js';
import { openCentralStore } from '../../storage/open-store.js';
import type { CentralStore } from '../../storage/types.js';
import { inProcessCentral } from '../helpers/central.js';

const T0 = Date.UTC(2026, 11, 2, 8);
const call = (seq: number, deviceId = 'btn-1') =>
  buildEnvelope({
    kind: 'emergency_call',
    siteId: 'site-a',
    deviceId,
    seq,
    data: { action: 'pressed', room: '101' },
  });

describe('UnprocessedSweeper', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function store(): Promise<CentralStore> {
    const dir = tempDir('cw-redeliver-');
    const s = await openCentralStore({ dataDir: dir.path });
    cleanup.push(
      () => dir.cleanup(),
      () => s.close(),
    );
    return s;
  }

  it('announces again the unprocessed events older than the cut-off that nobody holds', async () => {
    const s = await store();
    const clock = new ManualClock(T0);
    const bus = createCentralBus();
    const metrics = new Metrics();
    const heard: StoredEventNotice[] = [];
    bus.on('event.stored', (n) => {
      heard.push(n);
    });
    const [old, held, applied, young] = [call(0), call(1), call(2), call(3)];
    await s.events.insertBatch([
      { envelope: old, gatewayId: 'gw-a', receivedAt: T0 - 300_000 },
      { envelope: held, gatewayId: 'gw-a', receivedAt: T0 - 300_000 },
      { envelope: applied, gatewayId: 'gw-a', receivedAt: T0 - 300_000 },
      { envelope: young, gatewayId: 'gw-a', receivedAt: T0 - 10_000 },
    ]);
    await s.events.markProcessed(applied.id);
    const sweeper = new UnprocessedSweeper({
      events: s.events,
      bus,
      clock,
      metrics,
      holds: (id) => id === held.id,
      afterMs: 120_000,
      everyMs: 60_000,
    });
    expect(await sweeper.sweep()).toBe(1);
    expect(heard).toEqual([
      { envelope: old, gatewayId: 'gw-a', receivedAt: T0 - 300_000, redelivered: true },
    ]);
    expect(await metrics.registry.getSingleMetricAsString('carewatch_events_redelivered_total')).toMatch(
      / 1$/m,
    );
    // on its timer, until stopped; the young one's turn comes when it is old enough
    await s.events.markProcessed(old.id);
    sweeper.start();
    clock.advance(60_000); // first sweep: the young one is 70 s old
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toHaveLength(1);
    clock.advance(60_000); // second sweep: 130 s old
    await until(async () => heard.length === 2, 5_000);
    expect(heard.map((n) => n.envelope.seq)).toEqual([0, 3]);
    await sweeper.stop();
    await s.events.markProcessed(young.id);
    await s.events.insertBatch([{ envelope: call(4), gatewayId: 'gw-a', receivedAt: T0 }]);
    clock.advance(600_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toHaveLength(2); // stopped: no more sweeps
  });
});

describe('central: an event stored but never announced', () => {
  it('still opens its alert, once, after redeliverAfterS', async () => {
    const env = await inProcessCentral({ sites: ['site-a'], config: { alerts: { redeliverAfterS: 1 } } });
    try {
      const { store } = env.central;
      // as if the notice had been lost between the commit and the alert service
      const lost = call(0, 'btn-7');
      await store.events.insertBatch([{ envelope: lost, gatewayId: 'gw-site-a', receivedAt: Date.now() }]);
      const alerts = await until(async () => {
        const a = await store.alerts.list({ siteIds: ['site-a'], types: ['emergency_call'], limit: 10 });
        return a.length > 0 ? a : undefined;
      }, 10_000);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ source: 'btn-7', state: 'open', count: 1, eventId: lost.id });
      // processed now: later sweeps leave it alone (no repeat counted)
      await new Promise((r) => setTimeout(r, 1500));
      const again = await store.alerts.list({ siteIds: ['site-a'], types: ['emergency_call'], limit: 10 });
      expect(again.map((a) => a.count)).toEqual([1]);
      expect((await store.events.unprocessed(10)).map((e) => e.id)).not.toContain(lost.id);
    } finally {
      await env.close();
    }
  });
});
