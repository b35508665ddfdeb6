import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertService } from '../../../alerts/alert-service.js';
import {
  DEFAULT_OCCUPANCY_WINDOW_MS,
  DEFAULT_STAFFING_EVERY_MS,
  FireRoomService,
} from '../../../alerts/fire-room/service.js';
import { createCentralBus } from '../../../central/bus.js';
import { ManualClock } from '../../../lib/clock.js';
import { Metrics } from '../../../lib/metrics.js';
import { type AttendanceData, buildEnvelope, type Envelope } from '../../../protocol/index.js';
import { openSqliteCentralStore } from '../../../storage/sqlite/central-store.js';
import type { CentralStore } from '../../../storage/types.js';
import { tempDir } from '../../helpers/procs.js';

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('fire-control room duty rules', () => {
  let dir: { path: string; cleanup: () => void };
  let store: CentralStore;
  let clock: ManualClock;
  let alerts: AlertService;
  let fr: FireRoomService;
  const bus = createCentralBus();
  let seq = 0;

  /** Stores an attendance event as the ingest does and waits for the fire room and the alerts. */
  const deliver = async (deviceId: string, data: AttendanceData, ts = clock.now()) => {
    const envelope: Envelope = buildEnvelope({
      kind: 'attendance',
      siteId: 's1',
      deviceId,
      seq: seq++,
      ts: new Date(ts),
      data,
    });
    await store.events.insertBatch([{ envelope, gatewayId: 'gw', receivedAt: clock.now() }]);
    bus.emit('event.stored', { envelope, gatewayId: 'gw', receivedAt: clock.now() });
    await fr.idle();
    await alerts.idle();
  };
  const attend = (action: 'check_in' | 'check_out', operatorId: string) =>
    deliver('badge-1', { source: 'badge', action, operatorId });
  /** A presence sensor's reading, taken at `ts` (now by default). */
  const sense = (count: number, ts = clock.now()) =>
    deliver('pir-1', { source: 'presence', action: 'occupancy', count }, ts);
  const open = async (type: string) =>
    (await store.alerts.list({ states: ['open', 'acknowledged'] })).filter((a) => a.type === type);

  beforeEach(async () => {
    dir = tempDir('cw-fireroom-');
    store = openSqliteCentralStore(`${dir.path}/c.db`);
    clock = new ManualClock(Date.UTC(2026, 5, 1, 8));
    alerts = new AlertService({
      alerts: store.alerts,
      events: store.events,
      silences: store.silences,
      bus,
      clock,
      metrics: new Metrics(),
      escalation: { ackTimeoutS: 60, levels: ['on_duty'] },
    });
    await alerts.start();
    const year = 365 * 24 * 3600_000;
    for (const [id, expires] of [
      ['op-1', clock.now() + year],
      ['op-2', clock.now() + year],
      ['op-3', clock.now() - 1000],
    ] as const) {
      await store.fireRoom.putOperator({
        id,
        siteId: 's1',
        name: id,
        certificateNo: `CERT-${id}`,
        certificateExpiresAt: expires,
      });
    }
    await store.fireRoom.putSettings('s1', { minOperators: 2, maxShiftH: 8, randomPostChecksPerDay: 0 });
    fr = new FireRoomService({
      repo: store.fireRoom,
      events: store.events,
      alerts,
      bus,
      clock,
      postCheckDeadlineS: 600,
      tickMs: 60_000,
    });
    await fr.start();
    await alerts.idle();
  });
  afterEach(async () => {
    await fr.stop();
    await alerts.stop();
    await store.close();
    dir.cleanup();
  });

  it('raises understaffing when a certified operator leaves and clears it when two are back', async () => {
    expect(await open('fire_room_understaffed')).toHaveLength(1); // nobody there at start
    await attend('check_in', 'op-1');
    await attend('check_in', 'op-2');
    expect(await open('fire_room_understaffed')).toHaveLength(0);
    await attend('check_out', 'op-2');
    const [a] = await open('fire_room_understaffed');
    expect(a!.title).toContain('1 of 2');
    await attend('check_in', 'op-3'); // present but certificate expired: does not count
    expect(await open('fire_room_understaffed')).toHaveLength(1);
    expect((await open('operator_certificate_expired')).map((x) => x.source)).toEqual(['op-3']);
    await attend('check_in', 'op-2');
    expect(await open('fire_room_understaffed')).toHaveLength(0);
  });

  it('evaluates staffing once at the first attendance, then once per interval however many arrive', async () => {
    expect(await open('fire_room_understaffed')).toHaveLength(1);
    let evaluations = 0;
    const present = store.fireRoom.present.bind(store.fireRoom);
    store.fireRoom.present = (site) => {
      evaluations++;
      return present(site);
    };
    // as the ingest delivers a burst: stored and announced, without waiting for the fire room
    const burst = async (list: Array<['check_in' | 'check_out', string]>) => {
      for (const [action, operatorId] of list) {
        const envelope: Envelope = buildEnvelope({
          kind: 'attendance',
          siteId: 's1',
          deviceId: 'badge-1',
          seq: seq++,
          ts: new Date(clock.now()),
          data: { source: 'badge', action, operatorId },
        });
        await store.events.insertBatch([{ envelope, gatewayId: 'gw', receivedAt: clock.now() }]);
        bus.emit('event.stored', { envelope, gatewayId: 'gw', receivedAt: clock.now() });
        await settle(); // each its own commit
      }
      await settle();
    };
    await burst([['check_in', 'op-1']]);
    await alerts.idle();
    expect(evaluations).toBe(1); // at once
    await burst([
      ['check_in', 'op-2'],
      ['check_out', 'op-2'],
      ['check_in', 'op-2'],
      ['check_out', 'op-1'],
      ['check_in', 'op-1'],
    ]);
    await alerts.idle();
    expect(evaluations).toBe(1); // inside the interval: waiting
    expect(await open('fire_room_understaffed')).toHaveLength(1);
    clock.advance(DEFAULT_STAFFING_EVERY_MS);
    await settle();
    await alerts.idle();
    expect(evaluations).toBe(2); // one evaluation for the five commits, on the state after the last
    expect(await open('fire_room_understaffed')).toHaveLength(0);
    // quiet for an interval: the next change is evaluated at once again
    clock.advance(DEFAULT_STAFFING_EVERY_MS);
    await burst([['check_out', 'op-2']]);
    await alerts.idle();
    expect(evaluations).toBe(3);
    expect(await open('fire_room_understaffed')).toHaveLength(1);
  });

  it("evaluates a site's first change at once even while another site waits for its interval", async () => {
    await store.fireRoom.putSettings('s2', { minOperators: 1, maxShiftH: 8, randomPostChecksPerDay: 0 });
    const evaluated: string[] = [];
    const present = store.fireRoom.present.bind(store.fireRoom);
    store.fireRoom.present = (site) => {
      evaluated.push(site);
      return present(site);
    };
    const stored = async (siteId: string, operatorId: string) => {
      const envelope: Envelope = buildEnvelope({
        kind: 'attendance',
        siteId,
        deviceId: 'badge-1',
        seq: seq++,
        data: { source: 'badge', action: 'check_in', operatorId },
      });
      await store.events.insertBatch([{ envelope, gatewayId: 'gw', receivedAt: clock.now() }]);
      bus.emit('event.stored', { envelope, gatewayId: 'gw', receivedAt: clock.now() });
      await settle();
    };
    await stored('s1', 'op-1');
    await stored('s1', 'op-2'); // s1 now waits for its interval (a timer is set)
    expect(evaluated).toEqual(['s1']);
    await stored('s2', 'op-9'); // s2's first change: at once, not behind s1's timer
    await alerts.idle();
    expect(evaluated).toEqual(['s1', 's2']);
    clock.advance(DEFAULT_STAFFING_EVERY_MS);
    await settle();
    expect(evaluated).toEqual(['s1', 's2', 's1']);
  });

  describe('occupancy from presence sensors', () => {
    it('badges say 2, the sensor says 1: understaffed, and why; the sensor back to 2 clears it', async () => {
      await attend('check_in', 'op-1');
      await attend('check_in', 'op-2');
      expect(await open('fire_room_understaffed')).toHaveLength(0);

      await sense(1);
      const [a, ...more] = await open('fire_room_understaffed');
      expect(more).toHaveLength(0);
      expect(a!.title).toBe(
        'Fire-control room understaffed: presence sensor counts 1 of 2 (2 certified operators checked in)',
      );
      expect(await fr.status('s1')).toMatchObject({
        certifiedPresent: 2,
        staffed: false,
        occupancy: { count: 1, at: clock.now() },
        occupancyCurrent: true,
        occupancyShort: true,
      });

      await sense(2);
      expect(await open('fire_room_understaffed')).toHaveLength(0);
      expect(await fr.status('s1')).toMatchObject({
        staffed: true,
        occupancyCurrent: true,
        occupancyShort: false,
      });
    });

    it('never stands in for badges: 2 sensed but 1 certified operator checked in stays understaffed', async () => {
      await attend('check_in', 'op-1');
      await sense(2);
      expect(await open('fire_room_understaffed')).toHaveLength(1); // open since the start
      expect(await fr.status('s1')).toMatchObject({
        certifiedPresent: 1,
        staffed: false,
        occupancyCurrent: true,
        occupancyShort: false,
      });
    });

    it('names both shortfalls when badges and sensor are both short', async () => {
      await attend('check_in', 'op-1');
      await attend('check_in', 'op-2');
      // one burst: the second operator leaves and the sensor sees nobody, evaluated together
      const at = clock.now();
      await store.fireRoom.recordAttendanceMany([
        {
          entry: {
            siteId: 's1',
            operatorId: 'op-2',
            action: 'check_out',
            count: null,
            source: 'badge:badge-1',
            at,
          },
          eventId: null,
        },
        {
          entry: {
            siteId: 's1',
            operatorId: null,
            action: 'occupancy',
            count: 0,
            source: 'presence:pir-1',
            at,
          },
          eventId: null,
        },
      ]);
      await fr.evaluate('s1');
      await alerts.idle();
      const [a] = await open('fire_room_understaffed');
      expect(a!.title).toBe(
        'Fire-control room understaffed: 1 of 2 certified operators present; presence sensor counts 0 of 2',
      );
    });

    it('ignores a stale reading: badges alone decide once it is older than the window', async () => {
      expect(DEFAULT_OCCUPANCY_WINDOW_MS).toBe(10 * 60_000);
      await attend('check_in', 'op-1');
      await attend('check_in', 'op-2');
      await sense(1);
      expect(await open('fire_room_understaffed')).toHaveLength(1);

      // no event arrives: the periodic evaluation notices the reading went stale
      clock.advance(DEFAULT_OCCUPANCY_WINDOW_MS + 1000);
      await settle();
      await fr.idle();
      await alerts.idle();
      expect(await open('fire_room_understaffed')).toHaveLength(0);
      expect(await fr.status('s1')).toMatchObject({
        staffed: true,
        occupancy: { count: 1 },
        occupancyCurrent: false,
        occupancyShort: false,
      });

      // a reading that arrives late (taken 15 min ago) or dated far ahead does not count either
      await sense(0, clock.now() - 15 * 60_000);
      await sense(0, clock.now() + 60 * 60_000);
      expect(await open('fire_room_understaffed')).toHaveLength(0);
      expect((await fr.status('s1')).occupancyCurrent).toBe(false);
    });

    it('takes the window from the service options', async () => {
      await attend('check_in', 'op-1');
      await attend('check_in', 'op-2');
      await sense(1);
      clock.advance(90_000);
      const short = new FireRoomService({
        repo: store.fireRoom,
        events: store.events,
        alerts,
        bus,
        clock,
        occupancyWindowMs: 60_000,
      });
      expect(await short.status('s1')).toMatchObject({ staffed: true, occupancyCurrent: false });
      expect(await fr.status('s1')).toMatchObject({ staffed: false, occupancyShort: true });
    });
  });

  it('accepts one operator where the site allows it', async () => {
    await store.fireRoom.putSettings('s1', { minOperators: 1, maxShiftH: 8, randomPostChecksPerDay: 0 });
    await attend('check_in', 'op-1');
    expect(await open('fire_room_understaffed')).toHaveLength(0);
  });

  it('flags shifts over 8 hours and a duty log not written for 2 hours', async () => {
    await attend('check_in', 'op-1');
    await attend('check_in', 'op-2');
    clock.advance(2 * 3600_000 + 60_000);
    await settle();
    await alerts.idle();
    expect(await open('duty_log_overdue')).toHaveLength(1);
    await store.fireRoom.addDutyLog({
      siteId: 's1',
      at: clock.now(),
      author: 'op-1',
      kind: 'equipment_check',
      body: { ok: true },
    });
    await fr.evaluate('s1');
    await alerts.idle();
    expect(await open('duty_log_overdue')).toHaveLength(0);
    clock.advance(6 * 3600_000);
    await settle();
    await alerts.idle();
    expect((await open('shift_too_long')).map((a) => a.source).sort()).toEqual(['op-1', 'op-2']);
  });

  it('records an answered post check and raises an alert for a missed one, each once', async () => {
    const answered = await fr.issuePostCheck('s1', 'user:dispatch');
    clock.advance(5 * 60_000);
    const done = await fr.answer(answered.id, 'user:op-1', 'console');
    expect(done).toMatchObject({ state: 'answered', answeredBy: 'user:op-1', via: 'console' });

    const missed = await fr.issuePostCheck('s1', 'user:dispatch');
    clock.advance(10 * 60_000 + 1000);
    await settle();
    await alerts.idle();
    await expect(fr.answer(missed.id, 'user:op-1', 'console')).rejects.toMatchObject({
      code: 'POST_CHECK_CLOSED',
    });
    expect((await store.fireRoom.getPostCheck(missed.id))!.state).toBe('missed');
    clock.advance(10 * 60_000);
    await settle();
    await alerts.idle();
    const alertsMissed = await open('post_check_missed');
    expect(alertsMissed).toHaveLength(1);
    expect(alertsMissed[0]!.source).toBe(`post-check:${missed.id}`);
  });

  it('issues random post checks when configured', async () => {
    await store.fireRoom.putSettings('s1', { minOperators: 2, maxShiftH: 8, randomPostChecksPerDay: 24 });
    for (let i = 0; i < 48; i++) {
      clock.advance(30 * 60_000);
      await settle();
    }
    const checks = await store.fireRoom.postChecks('s1', 100);
    expect(checks.length).toBeGreaterThan(5);
    expect(checks.every((c) => c.issuedBy === 'system:random')).toBe(true);
  });
});
