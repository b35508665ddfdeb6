import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertService } from '../../alerts/alert-service.js';
import type { EscalationConfig } from '../../alerts/escalation.js';
import { createCentralBus } from '../../central/bus.js';
import { ManualClock } from '../../lib/clock.js';
import { Metrics } from '../../lib/metrics.js';
import { buildEnvelope } from '../../protocol/index.js';
import { openSqliteCentralStore } from '../../storage/sqlite/central-store.js';
import type { AuditEntry } from '../../storage/types.js';
import { tempDir } from '../helpers/procs.js';

/**
 * Level 0: reminders at +20 s and +40 s (default spacing 60 / (2 + 1)), climb at +60 s.
 * Level 1 (top): reminders every 30 s, three of them, then nothing more.
 */
const ESC: EscalationConfig = {
  ackTimeoutS: 60,
  levels: ['on_duty', 'head'],
  chains: [
    {
      name: 'calls',
      levels: [
        { name: 'on_duty', waitS: 60, repeats: 2 },
        { name: 'head', waitS: 90, repeats: 3, repeatEveryS: 30 },
      ],
    },
  ],
};

/** Five reminders every 10 s within a 60 s wait, to see missed ones skipped after downtime. */
const DENSE: EscalationConfig = {
  ackTimeoutS: 60,
  levels: ['on_duty'],
  chains: [
    {
      name: 'dense',
      levels: [
        { name: 'on_duty', waitS: 60, repeats: 5, repeatEveryS: 10 },
        { name: 'head', waitS: 60 },
      ],
    },
  ],
};

type Change = { change: string; level: number; repeat: number; at: number };

async function service(path: string, clock: ManualClock, escalation: EscalationConfig) {
  const store = openSqliteCentralStore(path);
  const bus = createCentralBus();
  const changes: Change[] = [];
  bus.on('alert.changed', ({ alert, change }) => {
    changes.push({ change, level: alert.escalationLevel, repeat: alert.repeatCount ?? 0, at: clock.now() });
  });
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
  return { store, bus, svc, changes };
}
type Svc = Awaited<ReturnType<typeof service>>;

let seq = 0;
async function press(s: Svc, clock: ManualClock, device = 'btn-1'): Promise<string> {
  const envelope = buildEnvelope({
    kind: 'emergency_call',
    siteId: 's1',
    deviceId: device,
    seq: seq++,
    data: { action: 'pressed' },
  });
  await s.store.events.insertBatch([{ envelope, gatewayId: 'gw', receivedAt: clock.now() }]);
  s.bus.emit('event.stored', { envelope, gatewayId: 'gw', receivedAt: clock.now() });
  await s.svc.idle();
  const a = (await s.store.alerts.list({})).find((x) => x.source === device);
  if (!a) throw new Error('the press opened no alert');
  return a.id;
}

/** Lets the escalator's store calls settle after the clock moved. */
const settle = () => new Promise((r) => setTimeout(r, 15));

/** Advances in steps of `stepMs`, letting the escalator run after each. */
async function walk(clock: ManualClock, ms: number, stepMs = 5_000): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    clock.advance(Math.min(stepMs, ms - done));
    await settle();
  }
}

const steps = (audit: AuditEntry[], t0: number) =>
  audit
    .filter((e) => e.action === 'renotified' || e.action === 'escalated')
    .map((e) => [e.action, e.level, (e.at - t0) / 1000]);

describe('escalation: repeats within a level', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const db = () => {
    const d = tempDir('cw-repeats-');
    cleanups.push(() => d.cleanup());
    return `${d.path}/central.db`;
  };
  const started = async (path: string, clock: ManualClock, esc = ESC) => {
    const s = await service(path, clock, esc);
    cleanups.push(async () => {
      await s.svc.stop();
      await s.store.close().catch(() => {});
    });
    return s;
  };

  it('reminds each level at its times and count, climbs after waitS, and stops after the top repeats', async () => {
    const clock = new ManualClock();
    const s = await started(db(), clock);
    const t0 = clock.now();
    const id = await press(s, clock);
    expect((await s.store.alerts.get(id))!.nextEscalationAt).toBe(t0 + 20_000);
    await walk(clock, 400_000);
    const audit = await s.store.alerts.audit(id);
    expect(steps(audit, t0)).toEqual([
      ['renotified', 0, 20],
      ['renotified', 0, 40],
      ['escalated', 1, 60],
      ['renotified', 1, 90],
      ['renotified', 1, 120],
      ['renotified', 1, 150],
    ]);
    expect(audit.filter((e) => e.action === 'renotified').map((e) => e.note)).toEqual([
      'repeat 1 of 2',
      'repeat 2 of 2',
      'repeat 1 of 3',
      'repeat 2 of 3',
      'repeat 3 of 3',
    ]);
    const last = (await s.store.alerts.get(id))!;
    expect(last).toMatchObject({ state: 'open', escalationLevel: 1, repeatCount: 3, nextEscalationAt: null });
    // what the notification dispatcher sees on the bus: each reminder with its level and number
    expect(s.changes.filter((c) => c.change !== 'opened').map((c) => [c.change, c.level, c.repeat])).toEqual([
      ['renotified', 0, 1],
      ['renotified', 0, 2],
      ['escalated', 1, 0],
      ['renotified', 1, 1],
      ['renotified', 1, 2],
      ['renotified', 1, 3],
    ]);
  });

  it('stops reminding on acknowledgement, at any level', async () => {
    const clock = new ManualClock();
    const s = await started(db(), clock);
    const t0 = clock.now();
    const early = await press(s, clock, 'btn-1');
    const late = await press(s, clock, 'btn-2');
    await walk(clock, 25_000);
    await s.svc.acknowledge(early, 'user:nurse', null);
    await walk(clock, 70_000); // btn-2 climbs at 60 s and is reminded at 90 s
    await s.svc.acknowledge(late, 'user:head', null);
    await walk(clock, 300_000);
    expect(steps(await s.store.alerts.audit(early), t0)).toEqual([['renotified', 0, 20]]);
    expect(steps(await s.store.alerts.audit(late), t0)).toEqual([
      ['renotified', 0, 20],
      ['renotified', 0, 40],
      ['escalated', 1, 60],
      ['renotified', 1, 90],
    ]);
    for (const id of [early, late]) {
      expect((await s.store.alerts.get(id))!).toMatchObject({
        state: 'acknowledged',
        nextEscalationAt: null,
      });
    }
  });

  it('sends no reminder twice when the service restarts mid-wait on the same file', async () => {
    const path = db();
    const clock = new ManualClock();
    const t0 = clock.now();
    const a = await service(path, clock, ESC);
    const id = await press(a, clock);
    await walk(clock, 20_000); // reminder 1 at 20 s
    await a.svc.stop();
    await a.store.close(); // the process is gone; only the file remains
    await walk(clock, 10_000); // 30 s: nothing was due while it was down
    const b = await started(path, clock);
    await walk(clock, 40_000);
    expect(steps(await b.store.alerts.audit(id), t0)).toEqual([
      ['renotified', 0, 20],
      ['renotified', 0, 40],
      ['escalated', 1, 60],
    ]);
    expect(b.changes.map((c) => [c.change, c.repeat])).toEqual([
      ['renotified', 2],
      ['escalated', 0],
    ]);
  });

  it('after downtime sends one catch-up reminder for the missed ones, then keeps the schedule', async () => {
    const path = db();
    const clock = new ManualClock();
    const t0 = clock.now();
    const a = await service(path, clock, DENSE);
    const id = await press(a, clock);
    await walk(clock, 5_000);
    await a.svc.stop();
    await a.store.close();
    clock.advance(32_000); // down from 5 s to 37 s: reminders at 10, 20 and 30 s were missed
    const b = await started(path, clock, DENSE);
    await settle();
    await walk(clock, 40_000, 1_000);
    const audit = await b.store.alerts.audit(id);
    expect(steps(audit, t0)).toEqual([
      ['renotified', 0, 37],
      ['renotified', 0, 40],
      ['renotified', 0, 50],
      ['escalated', 1, 60],
    ]);
    expect(audit.filter((e) => e.action === 'renotified').map((e) => e.note)).toEqual([
      'repeat 3 of 5 (2 missed while down)',
      'repeat 4 of 5',
      'repeat 5 of 5',
    ]);
  });

  it('climbs without a reminder when the climb fell due during the downtime', async () => {
    const path = db();
    const clock = new ManualClock();
    const t0 = clock.now();
    const a = await service(path, clock, DENSE);
    const id = await press(a, clock);
    await a.svc.stop();
    await a.store.close();
    clock.advance(75_000);
    const b = await started(path, clock, DENSE);
    await settle();
    expect(steps(await b.store.alerts.audit(id), t0)).toEqual([['escalated', 1, 75]]);
    // the top of DENSE has no reminders: nothing more is due
    expect((await b.store.alerts.get(id))!).toMatchObject({ escalationLevel: 1, nextEscalationAt: null });
  });

  it('two services on one file send each reminder once between them', async () => {
    const path = db();
    const clock = new ManualClock();
    const t0 = clock.now();
    const a = await started(path, clock);
    const id = await press(a, clock);
    const b = await started(path, clock); // arms its timer for the alert from the shared file
    await walk(clock, 200_000, 10_000);
    expect(steps(await a.store.alerts.audit(id), t0)).toEqual([
      ['renotified', 0, 20],
      ['renotified', 0, 40],
      ['escalated', 1, 60],
      ['renotified', 1, 90],
      ['renotified', 1, 120],
      ['renotified', 1, 150],
    ]);
    const sent = [...a.changes, ...b.changes].filter((c) => c.change === 'renotified');
    expect(sent).toHaveLength(5);
  });
});

describe('escalation repeats: property', () => {
  it('never reminds a level more than its repeats, and never after an acknowledgement', async () => {
    const d = tempDir('cw-repeats-prop-');
    let run = 0;
    const action = fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min: 1_000, max: 80_000 }).map((ms) => ({ advance: ms })) },
      { weight: 1, arbitrary: fc.constant({ ack: true as const }) },
    );
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(action, { minLength: 1, maxLength: 12 }),
          fc.boolean(),
          async (acts, dense) => {
            const clock = new ManualClock();
            const esc = dense ? DENSE : ESC;
            const s = await service(`${d.path}/p${run++}.db`, clock, esc);
            try {
              const id = await press(s, clock);
              for (const act of acts) {
                if ('advance' in act) {
                  clock.advance(act.advance);
                  await settle();
                } else {
                  await s.svc.acknowledge(id, 'user:nurse', null).catch(() => {});
                }
              }
              const audit = await s.store.alerts.audit(id);
              const levels = esc.chains![0]!.levels;
              for (const [level, cfg] of levels.entries()) {
                const n = audit.filter((e) => e.action === 'renotified' && e.level === level).length;
                expect(n).toBeLessThanOrEqual(cfg.repeats ?? 0);
              }
              const ack = audit.find((e) => e.action === 'acknowledged');
              if (ack) {
                const after = audit.filter(
                  (e) => (e.action === 'renotified' || e.action === 'escalated') && e.at > ack.at,
                );
                expect(after).toEqual([]);
              }
            } finally {
              await s.svc.stop();
              await s.store.close();
            }
          },
        ),
        { numRuns: 25 },
      );
    } finally {
      d.cleanup();
    }
  });
});
