import { describe, expect, it } from 'vitest';
import { createCentralBus } from '../../../central/bus.js';
import { ManualClock } from '../../../lib/clock.js';
import { Metrics } from '../../../lib/metrics.js';
import type { Envelope } from '../../../protocol/index.js';
import { openDatabase } from '../../../storage/sqlite/open.js';
import { EmbeddedTimeSeries } from '../../../storage/timeseries/embedded.js';
import { TelemetryRecorder } from '../../../storage/timeseries/recorder.js';
import type { Alert } from '../../../storage/types.js';
import { T0 } from './contract.js';

const HOUR = 3_600_000;

const envelope = (at: number, kind: string, drill = false) =>
  ({
    v: 1,
    id: `id-${at}-${kind}`,
    siteId: 'site-a',
    deviceId: 'btn-1',
    kind,
    ts: new Date(at).toISOString(),
    seq: 1,
    ...(drill ? { drill } : {}),
    data: {},
  }) as unknown as Envelope;

const alert = (patch: Partial<Alert>): Alert => ({
  id: 'al-1',
  siteId: 'site-a',
  source: 'btn-1',
  type: 'emergency_call',
  severity: 'critical',
  state: 'open',
  title: 'call',
  eventId: null,
  drill: false,
  count: 1,
  openedAt: T0 + 1000,
  updatedAt: T0 + 1000,
  ackedAt: null,
  ackedBy: null,
  resolvedAt: null,
  resolvedBy: null,
  escalationLevel: 0,
  nextEscalationAt: null,
  suppressed: null,
  ...patch,
});

describe('TelemetryRecorder', () => {
  it('records stored events, alert changes and heartbeats through the time series', async () => {
    const clock = new ManualClock(T0 + 5000);
    const bus = createCentralBus();
    const series = new EmbeddedTimeSeries(openDatabase(':memory:'), { clock, closeDb: true });
    await series.start();
    const metrics = new Metrics();
    const rec = new TelemetryRecorder({ bus, series, clock, metrics });
    rec.start();

    bus.emit('event.stored', {
      envelope: envelope(T0 + 10, 'button_call'),
      gatewayId: 'gw-a',
      receivedAt: T0 + 99,
    });
    bus.emit('event.stored', {
      envelope: envelope(T0 + 20, 'button_call'),
      gatewayId: 'gw-a',
      receivedAt: T0 + 99,
    });
    // the same event announced again by the safety net (central/redeliver.ts) was counted already
    bus.emit('event.stored', {
      envelope: envelope(T0 + 20, 'button_call'),
      gatewayId: 'gw-a',
      receivedAt: T0 + 99,
      redelivered: true,
    });
    bus.emit('event.stored', {
      envelope: envelope(T0 + 30, 'button_call', true),
      gatewayId: 'gw-a',
      receivedAt: 0,
    });
    bus.emit('alert.changed', { alert: alert({}), change: 'opened' });
    bus.emit('alert.changed', {
      alert: alert({ state: 'acknowledged', ackedAt: T0 + 91_000, updatedAt: T0 + 91_000 }),
      change: 'acknowledged',
    });
    bus.emit('alert.changed', { alert: alert({ drill: true }), change: 'opened' });
    rec.heartbeat('site-a', 'gw-a', { uptimeS: 42, intervalS: 30, outboxDepth: 7, version: '0.1.0' });
    rec.stop();
    bus.emit('event.stored', {
      envelope: envelope(T0 + 40, 'button_call'),
      gatewayId: 'gw-a',
      receivedAt: 0,
    });
    await series.flush();

    expect(await series.eventCountsByKind(undefined, T0, T0 + HOUR, HOUR)).toEqual([
      { t: T0, kind: 'button_call', count: 2 },
    ]);
    expect((await series.alertsPerHour(undefined, T0, T0 + HOUR))[0]).toEqual({ t: T0, count: 1 });
    expect(await series.ackTimesPerHour(undefined, T0, T0 + HOUR)).toEqual([
      { t: T0, count: 1, meanS: 90, maxS: 90 },
    ]);
    expect(await series.gatewayTelemetry('site-a', T0)).toEqual([
      { t: T0 + 5000, gatewayId: 'gw-a', outboxDepth: 7, uptimeS: 42 },
    ]);
    // the two events of the same second became one point that counts both
    expect(await metrics.registry.getSingleMetricAsString('carewatch_timeseries_points_total')).toMatch(
      /measurement="events"} 1/,
    );
    await series.stop();
  });

  it('sums events per site, kind and second, and writes them a window after the first', async () => {
    const clock = new ManualClock(T0);
    const bus = createCentralBus();
    const series = new EmbeddedTimeSeries(openDatabase(':memory:'), { clock, closeDb: true });
    await series.start();
    const metrics = new Metrics();
    const rec = new TelemetryRecorder({ bus, series, clock, metrics, eventWindowMs: 500 });
    rec.start();
    const stored = (at: number, kind: string, siteId = 'site-a') =>
      bus.emit('event.stored', {
        envelope: { ...envelope(at, kind), siteId },
        gatewayId: 'gw-a',
        receivedAt: at,
      });
    for (let i = 0; i < 50; i++) stored(T0 + i * 10, 'attendance'); // 0..490 ms: one second
    stored(T0 + 999, 'attendance');
    stored(T0 + 1000, 'attendance'); // the next second
    stored(T0 + 5, 'button_call');
    stored(T0 + 5, 'attendance', 'site-b');
    // nothing is written before the window ends
    await series.flush();
    expect(await series.eventCountsByKind(undefined, T0, T0 + HOUR, 1000)).toEqual([]);
    clock.advance(500);
    await series.flush();
    expect(await series.eventCountsByKind(undefined, T0, T0 + HOUR, 1000)).toEqual([
      { t: T0, kind: 'attendance', count: 52 },
      { t: T0, kind: 'button_call', count: 1 },
      { t: T0 + 1000, kind: 'attendance', count: 1 },
    ]);
    expect(await series.eventCountsByKind(['site-a'], T0, T0 + HOUR, HOUR)).toEqual([
      { t: T0, kind: 'attendance', count: 52 },
      { t: T0, kind: 'button_call', count: 1 },
    ]);
    expect(await metrics.registry.getSingleMetricAsString('carewatch_timeseries_points_total')).toMatch(
      /measurement="events"} 4/,
    );
    // a later event of an already written second is a new point; the sums still add up; stop writes it
    stored(T0 + 20, 'attendance');
    rec.stop();
    await series.flush();
    expect(await series.eventCountsByKind(['site-a'], T0, T0 + 1000, 1000)).toEqual([
      { t: T0, kind: 'attendance', count: 52 },
      { t: T0, kind: 'button_call', count: 1 },
    ]);
    await series.stop();
  });
});
