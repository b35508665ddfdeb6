import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertService, IN_HAND_TRUST_MS } from '../../alerts/alert-service.js';
import type { EscalationConfig } from '../../alerts/escalation.js';
import { createCentralBus } from '../../central/bus.js';
import { ManualClock } from '../../lib/clock.js';
import { Metrics } from '../../lib/metrics.js';
import { buildEnvelope, type EmergencyCallAction } from '../../protocol/index.js';
import { openSqliteCentralStore } from '../../storage/sqlite/central-store.js';
import type { CentralStore } from '../../storage/types.js';
import { tempDir } from '../helpers/procs.js';

const ESC = { ackTimeoutS: 60, levels: ['on_duty', 'head', 'dispatch'] };

/** An emergency call of site s1, as a button's gateway would send it. */
const callEnvelope = (deviceId: string, seq: number, action: EmergencyCallAction, drill = false) =>
  buildEnvelope({ kind: 'emergency_call', siteId: 's1', deviceId, seq, data: { action }, drill });

async function harness(path: string, clock: ManualClock, escalation: EscalationConfig = ESC) {
  const store = openSqliteCentralStore(path);
  const bus = createCentralBus();
  const changes: Array<{ change: string; id: string; level: number }> = [];
  bus.on(
    'alert.changed',
    ({ alert, change }) => void changes.push({ change, id: alert.id, level: alert.escalationLevel }),
  );
  const svc = new AlertService({
    alerts: store.alerts,
    events: store.events,
    silences: store.silences,
    bus,
    clock,
    metrics: new Metrics(),
    escalation,
  });
  await svc.start();
  let seq = 0;
  const event = async (device: string, action: EmergencyCallAction, drill = false) => {
    const envelope = callEnvelope(device, seq++, action, drill);
    await store.events.insertBatch([{ envelope, gatewayId: 'gw', receivedAt: clock.now() }]);
    bus.emit('event.stored', { envelope, gatewayId: 'gw', receivedAt: clock.now() });
    await svc.idle();
    return envelope;
  };
  return { store, bus, svc, changes, event };
}

/** Lets the escalator's store calls settle after the clock moved. */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('alert service', () => {
  const dirs: Array<{ cleanup: () => void }> = [];
  const stores: CentralStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => {});
    for (const d of dirs.splice(0)) d.cleanup();
  });
  const db = () => {
    const d = tempDir('cw-alerts-');
    dirs.push(d);
    return `${d.path}/central.db`;
  };

  it('holds an announced event until it is applied, and trusts that for ten minutes at most', async () => {
    const clock = new ManualClock();
    const h = await harness(db(), clock);
    stores.push(h.store);
    const applied = await h.event('btn-1', 'pressed');
    expect(h.svc.holds(applied.id)).toBe(false); // applied: let go
    // checked synchronously after the notice, before the queue gets to it: as if it never got through
    const stuck = callEnvelope('btn-9', 0, 'pressed');
    h.bus.emit('event.stored', { envelope: stuck, gatewayId: 'gw', receivedAt: clock.now() });
    expect(h.svc.holds(stuck.id)).toBe(true);
    clock.advance(IN_HAND_TRUST_MS - 1);
    expect(h.svc.holds(stuck.id)).toBe(true);
    clock.advance(1);
    expect(h.svc.holds(stuck.id)).toBe(false); // the sweep of unprocessed events may announce it again
    await h.svc.idle();
    expect(h.svc.holds(stuck.id)).toBe(false);
  });

  it('escalates an unacknowledged call once per timeout, up to the last level, and stops on ack', async () => {
    const clock = new ManualClock();
    const h = await harness(db(), clock);
    stores.push(h.store);
    await h.event('btn-1', 'pressed');
    const [opened] = await h.store.alerts.list({});
    expect(opened!.nextEscalationAt).toBe(clock.now() + 60_000);

    clock.advance(59_000);
    await settle();
    expect((await h.store.alerts.get(opened!.id))!.escalationLevel).toBe(0);
    clock.advance(1_000);
    await settle();
    expect((await h.store.alerts.get(opened!.id))!.escalationLevel).toBe(1);
    clock.advance(60_000);
    await settle();
    const top = (await h.store.alerts.get(opened!.id))!;
    expect(top.escalationLevel).toBe(2);
    expect(top.nextEscalationAt).toBeNull(); // last level reached
    clock.advance(600_000);
    await settle();
    expect((await h.store.alerts.get(opened!.id))!.escalationLevel).toBe(2);

    await h.event('btn-2', 'pressed');
    const second = (await h.store.alerts.list({})).find((a) => a.source === 'btn-2')!;
    await h.svc.acknowledge(second.id, 'user:nurse', null);
    clock.advance(120_000);
    await settle();
    expect((await h.store.alerts.get(second.id))!.escalationLevel).toBe(0);
    expect(h.changes.filter((c) => c.change === 'escalated').map((c) => c.level)).toEqual([1, 2]);
    await h.svc.stop();
  });

  it('keeps a pending escalation across a restart and fires it exactly once', async () => {
    const path = db();
    const clock = new ManualClock();
    const a = await harness(path, clock);
    await a.event('btn-1', 'pressed');
    await a.svc.stop();
    await a.store.close(); // the process is gone; only the file remains

    clock.advance(90_000); // the deadline passed while nobody was running
    const b = await harness(path, clock);
    stores.push(b.store);
    await settle();
    const [alert] = await b.store.alerts.list({});
    expect(alert!.escalationLevel).toBe(1);
    const audit = await b.store.alerts.audit(alert!.id);
    expect(audit.filter((x) => x.action === 'escalated')).toHaveLength(1);
    await b.svc.stop();
  });

  it('replays events stored but not processed before a crash, without doubling', async () => {
    const path = db();
    const store = openSqliteCentralStore(path);
    const envelope = callEnvelope('btn-9', 0, 'pressed');
    await store.events.insertBatch([{ envelope, gatewayId: 'gw', receivedAt: Date.now() }]);
    await store.close(); // crashed before the alert service saw it
    const h = await harness(path, new ManualClock());
    stores.push(h.store);
    await h.svc.idle();
    expect(await h.store.alerts.list({})).toHaveLength(1);
    // the same event announced again (e.g. a late notice) changes nothing
    h.bus.emit('event.stored', { envelope, gatewayId: 'gw', receivedAt: Date.now() });
    await h.svc.idle();
    const alerts = await h.store.alerts.list({});
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.count).toBe(1);
    await h.svc.stop();
  });

  it('recovers more than a page of events that change no alert, between an alarm and its restore', async () => {
    const path = db();
    const store = openSqliteCentralStore(path);
    const at = Date.now();
    const beats = Array.from({ length: 1_234 }, (_, i) =>
      buildEnvelope({
        kind: 'gateway_heartbeat',
        siteId: 's1',
        deviceId: 'gw-1',
        seq: i,
        data: { uptimeS: i, intervalS: 30, outboxDepth: 0, version: '0.1.0' },
      }),
    );
    const call = (seq: number, action: EmergencyCallAction) => callEnvelope('btn-3', seq, action);
    await store.events.insertBatch([
      { envelope: call(0, 'pressed'), gatewayId: 'gw', receivedAt: at },
      ...beats.map((envelope, i) => ({ envelope, gatewayId: 'gw', receivedAt: at + 1 + i })),
      { envelope: call(1, 'cancelled'), gatewayId: 'gw', receivedAt: at + 5_000 },
    ]);
    await store.close(); // crashed before the alert service saw any of them
    const h = await harness(path, new ManualClock());
    stores.push(h.store);
    await h.svc.idle();
    expect(await h.store.events.unprocessed(10)).toEqual([]);
    const [alert, ...more] = await h.store.alerts.list({});
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ source: 'btn-3', state: 'resolved' });
    await h.svc.stop();
  });

  it('records drills without escalating them', async () => {
    const clock = new ManualClock();
    const h = await harness(db(), clock);
    stores.push(h.store);
    await h.event('btn-1', 'pressed', true);
    const [a] = await h.store.alerts.list({});
    expect(a!.drill).toBe(true);
    expect(a!.nextEscalationAt).toBeNull();
    await h.svc.stop();
  });

  it('keeps its invariants under any sequence of device events and user actions', async () => {
    const step = fc.oneof(
      fc.record({
        t: fc.constant('event' as const),
        device: fc.constantFrom('b1', 'b2'),
        action: fc.constantFrom<EmergencyCallAction>(
          'pressed',
          'cancelled',
          'battery_low',
          'unavailable',
          'available',
        ),
      }),
      fc.record({ t: fc.constantFrom('ack' as const, 'resolve' as const), pick: fc.nat(20) }),
      fc.record({ t: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 200_000 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
        const clock = new ManualClock();
        const d = tempDir('cw-prop-');
        const h = await harness(`${d.path}/c.db`, clock);
        try {
          for (const s of steps) {
            if (s.t === 'event') await h.event(s.device, s.action);
            else if (s.t === 'time') {
              clock.advance(s.ms);
              await settle();
            } else {
              const all = await h.store.alerts.list({});
              const target = all[s.pick % Math.max(1, all.length)];
              if (!target) continue;
              const before = target.state;
              try {
                if (s.t === 'ack') await h.svc.acknowledge(target.id, 'user:u', null);
                else await h.svc.resolve(target.id, 'user:u', null);
                expect(before).not.toBe('resolved');
              } catch (err) {
                expect((err as { code: string }).code).toBe('ALERT_TRANSITION_INVALID');
                expect((await h.store.alerts.get(target.id))!.state).toBe(before);
              }
            }
          }
          const all = await h.store.alerts.list({});
          const openKeys = all.filter((a) => a.state !== 'resolved').map((a) => `${a.source}/${a.type}`);
          expect(new Set(openKeys).size).toBe(openKeys.length); // one open alert per key
          for (const a of all) {
            const audit = await h.store.alerts.audit(a.id);
            expect(audit[0]!.action).toBe('opened');
            expect(audit.filter((x) => x.action === 'opened')).toHaveLength(1);
            expect(audit.filter((x) => x.action === 'repeated').length).toBe(a.count - 1);
            // the audit replays to the current state, and nothing follows a resolve
            const last = audit.filter((x) => x.toState).at(-1)!;
            expect(last.toState).toBe(a.state);
            const ri = audit.findIndex((x) => x.action === 'resolved');
            if (ri >= 0) expect(ri).toBe(audit.length - 1);
            expect(audit.filter((x) => x.action === 'escalated').length).toBe(a.escalationLevel);
          }
          expect(await h.store.events.unprocessed(10)).toEqual([]);
        } finally {
          await h.svc.stop();
          await h.store.close();
          d.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});

describe('alert suppression', () => {
  it('records silenced and inhibited alerts without escalating them', async () => {
    const d = tempDir('cw-supp-');
    const clock = new ManualClock();
    const h = await harness(`${d.path}/c.db`, clock);
    try {
      await h.store.silences.add({
        id: 'sil-1',
        siteId: 's1',
        type: 'emergency_call',
        source: 'btn-maint',
        startsAt: clock.now() - 1000,
        endsAt: clock.now() + 3600_000,
        reason: '维修 maintenance',
        createdBy: 'user:admin',
        createdAt: clock.now(),
      });
      await h.event('btn-maint', 'pressed');
      await h.event('btn-live', 'pressed');
      const byDev = async (dev: string) => (await h.store.alerts.list({})).find((a) => a.source === dev)!;
      expect(await byDev('btn-maint')).toMatchObject({ suppressed: 'silenced', nextEscalationAt: null });
      expect(await byDev('btn-live')).toMatchObject({ suppressed: null });
      expect((await byDev('btn-live')).nextEscalationAt).not.toBeNull();

      // the gateway goes offline: per-device alerts of the site are inhibited, calls are not
      h.bus.emit('gateway.presence', {
        gatewayId: 'gw',
        siteId: 's1',
        state: 'offline',
        at: clock.now(),
        reason: 'lwt',
      });
      await h.svc.idle();
      await h.event('btn-x', 'unavailable');
      await h.event('btn-y', 'pressed');
      expect(await byDev('btn-x')).toMatchObject({ type: 'device_unavailable', suppressed: 'inhibited' });
      expect(await byDev('btn-y')).toMatchObject({ suppressed: null });

      // after the silence ends, the same source alerts normally again
      await h.event('btn-maint', 'cancelled');
      await h.store.silences.end('sil-1', clock.now());
      clock.advance(1000);
      await h.event('btn-maint', 'pressed');
      const again = (await h.store.alerts.list({ states: ['open'] })).find((a) => a.source === 'btn-maint')!;
      expect(again.suppressed).toBeNull();

      // a silence that nobody ends stops by its expiry: silenced until then, alerting after
      await h.event('btn-maint', 'cancelled');
      await h.store.silences.add({
        id: 'sil-2',
        siteId: 's1',
        type: 'emergency_call',
        source: 'btn-maint',
        startsAt: clock.now(),
        endsAt: clock.now() + 600_000,
        reason: '更换电池 battery change',
        createdBy: 'user:admin',
        createdAt: clock.now(),
      });
      clock.advance(599_000);
      await h.event('btn-maint', 'pressed');
      const during = (await h.store.alerts.list({ states: ['open'] })).find((a) => a.source === 'btn-maint')!;
      expect(during).toMatchObject({ suppressed: 'silenced', nextEscalationAt: null });
      await h.event('btn-maint', 'cancelled');
      clock.advance(1_000);
      await h.event('btn-maint', 'pressed');
      const after = (await h.store.alerts.list({ states: ['open'] })).find((a) => a.source === 'btn-maint')!;
      expect(after.id).not.toBe(during.id);
      expect(after.suppressed).toBeNull();
      expect(after.nextEscalationAt).toBe(clock.now() + 60_000);
    } finally {
      await h.svc.stop();
      await h.store.close();
      d.cleanup();
    }
  });
});

describe('events arriving out of order', () => {
  it('never lets an older event override a newer one of the same device', async () => {
    const orders = [
      [2, 3, 0, 1],
      [0, 3, 2, 1],
      [1, 0, 3, 2],
      [3, 2, 1, 0],
    ];
    for (const order of orders) {
      const d = tempDir('cw-late-');
      const clock = new ManualClock();
      const h = await harness(`${d.path}/c.db`, clock);
      try {
        const evs = [0, 1, 2, 3].map((seq) =>
          buildEnvelope({
            kind: 'emergency_call',
            siteId: 's1',
            deviceId: 'btn-1',
            seq,
            data: { action: seq % 2 ? 'cancelled' : 'pressed' },
          }),
        );
        for (const i of order) {
          const envelope = evs[i]!;
          await h.store.events.insertBatch([{ envelope, gatewayId: 'gw', receivedAt: clock.now() }]);
          h.bus.emit('event.stored', { envelope, gatewayId: 'gw', receivedAt: clock.now() });
          await h.svc.idle();
        }
        const alerts = await h.store.alerts.list({});
        // the newest event is a cancel: nothing may stay open, and no call is lost
        expect(
          alerts.filter((a) => a.state !== 'resolved'),
          `order ${order}`,
        ).toEqual([]);
        expect(
          alerts.reduce((n, a) => n + a.count, 0),
          `order ${order}`,
        ).toBe(2);
      } finally {
        await h.svc.stop();
        await h.store.close();
        d.cleanup();
      }
    }
  });
});

describe('escalation chains per site and alert type', () => {
  it("climbs each alert through the first chain that matches it, with that chain's waits", async () => {
    const d = tempDir('cw-chain-');
    const clock = new ManualClock();
    const h = await harness(`${d.path}/c.db`, clock, {
      ...ESC,
      chains: [
        {
          name: 'night-calls-s1',
          sites: ['s1'],
          types: ['emergency_call'],
          levels: [
            { name: 'nurse', waitS: 30 },
            { name: 'head', waitS: 120 },
            { name: 'street-dispatch', waitS: 300 },
          ],
        },
      ],
    });
    try {
      await h.event('btn-1', 'pressed');
      const [a] = await h.store.alerts.list({});
      expect(a!.nextEscalationAt).toBe(clock.now() + 30_000);
      clock.advance(30_000);
      await settle();
      const l1 = (await h.store.alerts.get(a!.id))!;
      expect(l1.escalationLevel).toBe(1);
      expect(l1.nextEscalationAt).toBe(clock.now() + 120_000);
      clock.advance(120_000);
      await settle();
      const l2 = (await h.store.alerts.get(a!.id))!;
      expect(l2.escalationLevel).toBe(2);
      expect(l2.nextEscalationAt).toBeNull(); // top of this chain
    } finally {
      await h.svc.stop();
      await h.store.close();
      d.cleanup();
    }
  });
});
