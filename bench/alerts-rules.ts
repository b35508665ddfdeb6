/**
 * Part (a) of `npm run bench:alerts`: rule evaluation and alert updates per
 * second, in-process, with the real AlertService over a real SQLite central
 * store (WAL, synchronous=FULL) in a temp dir. Four bounded event streams:
 * events no rule matches, events that open new alerts, repeats of open
 * alerts, and events that resolve them. The baseline, measured in the same
 * run and interleaved with it batch by batch: the bare store insert of the
 * same events (the ingest persist step: one group-commit transaction per
 * batch) into a second fresh store, with no alert service. For reference, the same events are
 * also inserted one commit per event into a third store: the alert service
 * commits once per event (the change and the claim of the event), so that
 * is the floor its rate is held to on this disk.
 */
import { join } from 'node:path';
import { AlertService } from '../alerts/alert-service.js';
import { DEFAULT_ESCALATION } from '../alerts/escalation.js';
import { type AlertNotice, createCentralBus } from '../central/bus.js';
import { systemClock } from '../lib/clock.js';
import { Metrics } from '../lib/metrics.js';
import { tempDir } from '../lib/testkit/procs.js';
import { buildEnvelope, type Envelope } from '../protocol/index.js';
import { openSqliteCentralStore } from '../storage/sqlite/central-store.js';
import type { CentralStore, IncomingEvent } from '../storage/types.js';

export interface RuleFigures {
  scenario: string;
  events: number;
  /** Bare store insert of the same events in group commits (baseline). */
  baselineEventsPerS: number;
  /** Bare store insert of the same events, one commit (one fsync) per event: the floor of a per-event transaction. */
  perEventCommitEventsPerS: number;
  /** Persist + rules + alert transaction, end to end. */
  eventsPerS: number;
  /** The alert step alone (rules + alert transaction + claim). */
  alertStepEventsPerS: number;
  /** CPU time (user + system) of this process per event in the alert step: the rest is waiting on fsync. */
  alertStepCpuUsPerEvent: number;
  alertUpdates: number;
  alertUpdatesPerS: number;
  /** Alert changes seen, by change, to check the stream did what it claims. */
  changes: Record<string, number>;
}

const SITE = 'bench-site';

interface Scenario {
  name: string;
  expect: { change: string | null; count: number };
  envelopes: Envelope[];
}

/** The four streams, in the order they must run (repeats and resolves need the opened alerts). */
function scenarios(n: number): Scenario[] {
  const seq = new Map<string, number>();
  const next = (d: string) => {
    const s = seq.get(d) ?? 0;
    seq.set(d, s + 1);
    return s;
  };
  const call = (i: number, action: 'pressed' | 'cancelled'): Envelope => {
    const deviceId = `btn-${i}`;
    return buildEnvelope({
      kind: 'emergency_call',
      siteId: SITE,
      deviceId,
      seq: next(deviceId),
      data: { action, room: `R${i}` },
    }) as Envelope;
  };
  const range = Array.from({ length: n }, (_, i) => i);
  return [
    {
      name: 'no rule matches (attendance)',
      expect: { change: null, count: 0 },
      envelopes: range.map((i) => {
        const deviceId = `badge-${i % 4}`;
        return buildEnvelope({
          kind: 'attendance',
          siteId: SITE,
          deviceId,
          seq: next(deviceId),
          data: { source: 'badge', action: i % 2 ? 'check_out' : 'check_in', operatorId: `op-${i % 7}` },
        }) as Envelope;
      }),
    },
    {
      name: 'opens a new alert (call pressed)',
      expect: { change: 'opened', count: n },
      envelopes: range.map((i) => call(i, 'pressed')),
    },
    {
      name: 'repeats an open alert (pressed again)',
      expect: { change: 'repeated', count: n },
      envelopes: range.map((i) => call(i, 'pressed')),
    },
    {
      name: 'resolves an alert (bedside cancel)',
      expect: { change: 'resolved', count: n },
      envelopes: range.map((i) => call(i, 'cancelled')),
    },
  ];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const incoming = (envelope: Envelope): IncomingEvent => ({
  envelope,
  gatewayId: 'gw-bench',
  receivedAt: Date.now(),
});

async function persist(store: CentralStore, batches: IncomingEvent[][]): Promise<number> {
  const t0 = performance.now();
  for (const b of batches) {
    const r = await store.events.insertBatch(b);
    if (r.some((isNew) => !isNew)) throw new Error('bench: an event was not new in a fresh store');
  }
  return performance.now() - t0;
}

export async function benchRules(opts: { events: number; batch: number }): Promise<RuleFigures[]> {
  const dir = tempDir('cw-bench-rules-');
  const baseStore = openSqliteCentralStore(join(dir.path, 'baseline', 'central.db'));
  const singleStore = openSqliteCentralStore(join(dir.path, 'per-event', 'central.db'));
  const store = openSqliteCentralStore(join(dir.path, 'alerts', 'central.db'));
  const bus = createCentralBus();
  const alerts = new AlertService({
    alerts: store.alerts,
    events: store.events,
    silences: store.silences,
    bus,
    clock: systemClock,
    metrics: new Metrics(),
    escalation: DEFAULT_ESCALATION,
  });
  const seen: AlertNotice[] = [];
  const off = bus.on('alert.changed', (n) => {
    seen.push(n);
  });
  await alerts.start();
  const out: RuleFigures[] = [];
  try {
    for (const sc of scenarios(opts.events)) {
      const batches = chunks(sc.envelopes.map(incoming), opts.batch);
      // batch by batch, so all three see the same moments of a shared machine:
      // baseline (the same events and batches into a store with no alert service),
      // the per-event-commit reference, then the measured path (persist, then every
      // stored event through the alert service, as the ingest router does)
      let baseMs = 0;
      let singleMs = 0;
      let persistMs = 0;
      let alertMs = 0;
      let alertCpuUs = 0;
      seen.length = 0;
      for (const b of batches) {
        baseMs += await persist(baseStore, [b]);
        singleMs += await persist(
          singleStore,
          b.map((e) => [e]),
        );
        persistMs += await persist(store, [b]);
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        for (const e of b) bus.emit('event.stored', e);
        await alerts.idle();
        const cpu = process.cpuUsage(cpu0);
        alertMs += performance.now() - t0;
        alertCpuUs += cpu.user + cpu.system;
      }
      const changes: Record<string, number> = {};
      for (const n of seen) changes[n.change] = (changes[n.change] ?? 0) + 1;
      const updates = seen.length;
      const wanted = sc.expect.change ? { [sc.expect.change]: sc.expect.count } : {};
      if (JSON.stringify(changes) !== JSON.stringify(wanted))
        throw new Error(
          `bench: '${sc.name}' produced ${JSON.stringify(changes)}, expected ${JSON.stringify(wanted)}`,
        );
      const unprocessed = await store.events.unprocessed(1);
      if (unprocessed.length > 0) throw new Error(`bench: '${sc.name}' left events unprocessed`);
      const n = sc.envelopes.length;
      const totalS = (persistMs + alertMs) / 1000;
      out.push({
        scenario: sc.name,
        events: n,
        baselineEventsPerS: n / (baseMs / 1000),
        perEventCommitEventsPerS: n / (singleMs / 1000),
        eventsPerS: n / totalS,
        alertStepEventsPerS: n / (alertMs / 1000),
        alertStepCpuUsPerEvent: alertCpuUs / n,
        alertUpdates: updates,
        alertUpdatesPerS: updates / totalS,
        changes,
      });
    }
  } finally {
    off();
    await alerts.stop();
    await store.close();
    await baseStore.close();
    await singleStore.close();
    dir.cleanup();
  }
  return out;
}
