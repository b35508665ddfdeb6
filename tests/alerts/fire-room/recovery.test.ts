import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertService } from '../../../alerts/alert-service.js';
import { FireRoomService } from '../../../alerts/fire-room/service.js';
import type { FireRoomRepo } from '../../../alerts/fire-room/types.js';
import { createCentralBus } from '../../../central/bus.js';
import { ManualClock } from '../../../lib/clock.js';
import { Metrics } from '../../../lib/metrics.js';
import { buildEnvelope, type Envelope } from '../../../protocol/index.js';
import { openSqliteCentralStore } from '../../../storage/sqlite/central-store.js';
import type { CentralStore } from '../../../storage/types.js';
import { tempDir } from '../../helpers/procs.js';

/**
 * A central that dies between storing an event and committing the fire room's
 * record of it must neither lose the record nor apply it twice: the alert
 * service marks such events processed only after the fire room committed
 * them, and the fire room replays unprocessed ones at start.
 */
describe('fire-control room records across a crash', () => {
  let dir: { path: string; cleanup: () => void };
  let store: CentralStore;
  let clock: ManualClock;
  let seq = 0;
  let running: Array<{ alerts: AlertService; fr: FireRoomService }> = [];

  /** Starts the two services the way the central does: fire-room replay, alert recovery, then ticks. */
  const boot = async (repo: FireRoomRepo = store.fireRoom) => {
    const bus = createCentralBus();
    let fr: FireRoomService | undefined;
    const alerts = new AlertService({
      alerts: store.alerts,
      events: store.events,
      silences: store.silences,
      bus,
      clock,
      metrics: new Metrics(),
      escalation: { ackTimeoutS: 60, levels: ['on_duty'] },
      unappliedElsewhere: (ids) => fr!.unapplied(ids),
    });
    fr = new FireRoomService({ repo, events: store.events, alerts, bus, clock, tickMs: 60_000 });
    const replayed = await fr.recover();
    await alerts.start();
    await fr.start();
    await fr.idle();
    await alerts.idle();
    const svc = { alerts, fr, bus, replayed };
    running.push(svc);
    return svc;
  };
  const crash = async () => {
    // the services stop; the events stored after this never reach them, as after a SIGKILL
    for (const s of running) {
      await s.fr.stop();
      await s.alerts.stop();
    }
    running = [];
  };
  const checkIn = (operatorId: string): Envelope =>
    buildEnvelope({
      kind: 'attendance',
      siteId: 's1',
      deviceId: 'badge-1',
      seq: seq++,
      ts: new Date(clock.now()),
      data: { source: 'badge', action: 'check_in', operatorId },
    });
  const store1 = (e: Envelope, at = clock.now()) =>
    store.events.insertBatch([{ envelope: e, gatewayId: 'gw', receivedAt: at }]);
  const openOf = async (type: string) =>
    (await store.alerts.list({ states: ['open', 'acknowledged'] })).filter((a) => a.type === type);

  beforeEach(async () => {
    dir = tempDir('cw-fireroom-rec-');
    store = openSqliteCentralStore(`${dir.path}/c.db`);
    clock = new ManualClock(Date.UTC(2026, 5, 1, 8));
    seq = 0;
    for (const id of ['op-1', 'op-2']) {
      await store.fireRoom.putOperator({
        id,
        siteId: 's1',
        name: id,
        certificateNo: `CERT-${id}`,
        certificateExpiresAt: clock.now() + 365 * 24 * 3600_000,
      });
    }
    await store.fireRoom.putSettings('s1', { minOperators: 2, maxShiftH: 8, randomPostChecksPerDay: 0 });
  });
  afterEach(async () => {
    await crash();
    await store.close();
    dir.cleanup();
  });

  it('replays attendance stored before a crash, once, before the alert service marks it', async () => {
    await boot();
    expect(await openOf('fire_room_understaffed')).toHaveLength(1);
    await crash();
    // stored by the ingest, then the process died before anything else saw the events
    const events = [checkIn('op-1'), checkIn('op-2')];
    for (const e of events) await store1(e);
    expect((await store.events.unprocessed(10)).map((e) => e.id)).toEqual(events.map((e) => e.id));

    const first = await boot();
    expect(first.replayed).toBe(2);
    expect((await store.fireRoom.present('s1')).map((p) => p.operatorId).sort()).toEqual(['op-1', 'op-2']);
    expect(await store.fireRoom.attendance('s1', 0, 10)).toHaveLength(2);
    expect(await openOf('fire_room_understaffed')).toHaveLength(0);
    expect(await store.events.unprocessed(10)).toEqual([]);

    await crash();
    const second = await boot();
    expect(second.replayed).toBe(0);
    expect(await store.fireRoom.attendance('s1', 0, 10)).toHaveLength(2);
  });

  it('leaves an event unprocessed when its attendance cannot be committed; the next start applies it', async () => {
    let failures = 1;
    const flaky: FireRoomRepo = Object.create(store.fireRoom, {
      recordAttendanceMany: {
        value: async (items: Parameters<FireRoomRepo['recordAttendanceMany']>[0]) => {
          if (failures-- > 0) throw new Error('disk I/O error');
          return store.fireRoom.recordAttendanceMany(items);
        },
      },
    });
    const { bus, fr, alerts } = await boot(flaky);
    const lost = checkIn('op-1');
    const kept = checkIn('op-2');
    await store1(lost);
    bus.emit('event.stored', { envelope: lost, gatewayId: 'gw', receivedAt: clock.now() });
    await fr.idle();
    await alerts.idle();
    await store1(kept);
    bus.emit('event.stored', { envelope: kept, gatewayId: 'gw', receivedAt: clock.now() });
    await fr.idle();
    await alerts.idle();
    expect((await store.fireRoom.attendance('s1', 0, 10)).map((a) => a.operatorId)).toEqual(['op-2']);
    // the failed one is not marked processed; the applied one is
    expect((await store.events.unprocessed(10)).map((e) => e.id)).toEqual([lost.id]);

    await crash();
    const again = await boot();
    expect(again.replayed).toBe(1);
    expect((await store.fireRoom.attendance('s1', 0, 10)).map((a) => a.operatorId).sort()).toEqual([
      'op-1',
      'op-2',
    ]);
    expect(await store.events.unprocessed(10)).toEqual([]);
    expect(await openOf('fire_room_understaffed')).toHaveLength(0);
  });

  it('applies a device answer lost in a crash at the time it arrived, so its check is not missed', async () => {
    const { fr } = await boot();
    const check = await fr.issuePostCheck('s1', 'user:dispatch');
    clock.advance(4 * 60_000);
    const answeredAt = clock.now();
    await crash();
    await store1(
      buildEnvelope({
        kind: 'post_check',
        siteId: 's1',
        deviceId: 'uitd-1',
        seq: seq++,
        ts: new Date(answeredAt),
        data: { checkId: check.id, outcome: 'answered', via: 'gb26875' },
      }),
      answeredAt,
    );
    // the central comes back after the check's 10-minute deadline
    clock.advance(30 * 60_000);
    const again = await boot();
    expect(again.replayed).toBe(1);
    expect(await store.fireRoom.getPostCheck(check.id)).toMatchObject({
      state: 'answered',
      answeredAt,
      answeredBy: 'device:uitd-1',
      via: 'gb26875',
    });
    expect(await openOf('post_check_missed')).toHaveLength(0);
    expect(await store.events.unprocessed(10)).toEqual([]);
  });
});
