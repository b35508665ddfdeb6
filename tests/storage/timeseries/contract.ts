import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Point, TimeSeries } from '../../../storage/timeseries/types.js';

/** Two days ago on an hour boundary: inside every retention period (InfluxDB refuses older points). */
export const T0 = Math.floor((Date.now() - 2 * 86_400_000) / 3_600_000) * 3_600_000;
const MIN = 60_000;
const HOUR = 3_600_000;

const opened = (at: number, siteId: string, type = 'emergency_call'): Point => ({
  m: 'alert_changes',
  at,
  siteId,
  type,
  severity: 'critical',
  change: 'opened',
});
const acked = (at: number, siteId: string, ackSeconds: number): Point => ({
  m: 'alert_changes',
  at,
  siteId,
  type: 'emergency_call',
  severity: 'critical',
  change: 'acknowledged',
  ackSeconds,
});
const event = (at: number, siteId: string, kind: string): Point => ({ m: 'events', at, siteId, kind });

/** The data set of the contract: alert changes, events and heartbeats at known times. */
export function contractPoints(): Point[] {
  const points: Point[] = [
    // alerts: hour 0 has 5 openings (two in the same millisecond, same series), hour 1 none, hour 2 one
    opened(T0 + 5 * MIN, 'site-a'),
    acked(T0 + 6 * MIN, 'site-a', 60),
    opened(T0 + 10 * MIN, 'site-a', 'low_battery'),
    acked(T0 + 40 * MIN, 'site-a', 1800),
    opened(T0 + 15 * MIN, 'site-a', 'panel_fault'),
    opened(T0 + 15 * MIN, 'site-a', 'panel_fault'),
    { ...opened(T0 + 20 * MIN, 'site-a'), change: 'repeated' } as Point,
    { ...opened(T0 + 50 * MIN, 'site-a'), change: 'resolved' } as Point,
    opened(T0 + 30 * MIN, 'site-b'),
    opened(T0 + 2 * HOUR + 1, 'site-a'),
    acked(T0 + 2 * HOUR + 45_001, 'site-a', 45),
    // outside [T0, T0 + 3 h)
    opened(T0 - 1, 'site-a'),
    opened(T0 + 3 * HOUR, 'site-a'),
    acked(T0 + 3 * HOUR, 'site-a', 999),
    // events, 15-minute buckets
    event(T0 + 1000, 'site-a', 'button_call'),
    event(T0 + 2000, 'site-a', 'button_call'),
    event(T0 + 15 * MIN - 1000, 'site-a', 'button_call'),
    event(T0 + 20 * MIN, 'site-a', 'button_call'),
    event(T0 + 20 * MIN, 'site-a', 'button_call'),
    event(T0 + 16 * MIN, 'site-b', 'camera_offline'),
    event(T0 + 61 * MIN, 'site-a', 'attendance'),
    // three events of one second, summed by the recorder into one point
    { ...event(T0 + 62 * MIN, 'site-a', 'attendance'), count: 3 } as Point,
    event(T0 - 1, 'site-a', 'button_call'),
    event(T0 + 3 * HOUR, 'site-a', 'button_call'),
  ];
  // heartbeats: gw-a every 30 s for 5 minutes, silent 5 minutes, back after a restart
  for (let i = 0; i <= 10; i++) {
    points.push({
      m: 'gateway_heartbeat',
      at: T0 + i * 30_000,
      siteId: 'site-a',
      gatewayId: 'gw-a',
      uptimeS: 1000 + 30 * i,
      outboxDepth: i,
    });
  }
  points.push(
    {
      m: 'gateway_heartbeat',
      at: T0 + 10 * MIN,
      siteId: 'site-a',
      gatewayId: 'gw-a',
      uptimeS: 5,
      outboxDepth: 0,
    },
    { m: 'gateway_heartbeat', at: T0 + MIN, siteId: 'site-b', gatewayId: 'gw-b', uptimeS: 7, outboxDepth: 3 },
  );
  return points;
}

export interface Subject {
  series: TimeSeries;
  cleanup(): Promise<void>;
}

/** The same expectations for every TimeSeries implementation. */
export function timeSeriesContract(name: string, make: () => Promise<Subject>): void {
  describe(`TimeSeries contract: ${name}`, () => {
    let s: Subject;
    beforeAll(async () => {
      s = await make();
      s.series.write(contractPoints());
      await s.series.flush();
    });
    afterAll(async () => s?.cleanup());

    it('writes every point', () => {
      expect(s.series.stats()).toMatchObject({ buffered: 0, written: contractPoints().length, dropped: 0 });
    });

    it('counts alerts opened per hour, empty hours included', async () => {
      expect(await s.series.alertsPerHour(undefined, T0, T0 + 3 * HOUR)).toEqual([
        { t: T0, count: 5 },
        { t: T0 + HOUR, count: 0 },
        { t: T0 + 2 * HOUR, count: 1 },
      ]);
      expect(await s.series.alertsPerHour(['site-a'], T0, T0 + 3 * HOUR)).toEqual([
        { t: T0, count: 4 },
        { t: T0 + HOUR, count: 0 },
        { t: T0 + 2 * HOUR, count: 1 },
      ]);
      expect(await s.series.alertsPerHour(['site-b', 'nowhere'], T0, T0 + HOUR)).toEqual([
        { t: T0, count: 1 },
      ]);
      expect(await s.series.alertsPerHour([], T0, T0 + 2 * HOUR)).toEqual([
        { t: T0, count: 0 },
        { t: T0 + HOUR, count: 0 },
      ]);
    });

    it('starts the first bucket on the hour but counts only from `since`', async () => {
      expect(await s.series.alertsPerHour(undefined, T0 + 20 * MIN, T0 + 2 * HOUR)).toEqual([
        { t: T0, count: 1 },
        { t: T0 + HOUR, count: 0 },
      ]);
    });

    it('gives time to acknowledge per hour: count, mean, max', async () => {
      expect(await s.series.ackTimesPerHour(undefined, T0, T0 + 3 * HOUR)).toEqual([
        { t: T0, count: 2, meanS: 930, maxS: 1800 },
        { t: T0 + 2 * HOUR, count: 1, meanS: 45, maxS: 45 },
      ]);
      expect(await s.series.ackTimesPerHour(['site-b'], T0, T0 + 3 * HOUR)).toEqual([]);
    });

    it('counts events per bucket and kind', async () => {
      expect(await s.series.eventCountsByKind(undefined, T0, T0 + 3 * HOUR, 15 * MIN)).toEqual([
        { t: T0, kind: 'button_call', count: 3 },
        { t: T0 + 15 * MIN, kind: 'button_call', count: 2 },
        { t: T0 + 15 * MIN, kind: 'camera_offline', count: 1 },
        { t: T0 + 60 * MIN, kind: 'attendance', count: 4 },
      ]);
      expect(await s.series.eventCountsByKind(['site-b'], T0, T0 + 3 * HOUR, HOUR)).toEqual([
        { t: T0, kind: 'camera_offline', count: 1 },
      ]);
      expect(await s.series.eventCountsByKind(['site-a'], T0, T0 + 3 * HOUR, HOUR)).toEqual([
        { t: T0, kind: 'button_call', count: 5 },
        { t: T0 + HOUR, kind: 'attendance', count: 4 },
      ]);
    });

    it("returns a site's heartbeats and their gaps", async () => {
      const hb = await s.series.gatewayTelemetry('site-a', T0);
      expect(hb).toHaveLength(12);
      expect(hb[0]).toEqual({ t: T0, gatewayId: 'gw-a', outboxDepth: 0, uptimeS: 1000 });
      expect(hb[10]).toEqual({ t: T0 + 5 * MIN, gatewayId: 'gw-a', outboxDepth: 10, uptimeS: 1300 });
      expect(hb[11]).toEqual({ t: T0 + 10 * MIN, gatewayId: 'gw-a', outboxDepth: 0, uptimeS: 5 });
      expect(await s.series.gatewayTelemetry('site-a', T0 + 30_000, T0 + 90_000)).toHaveLength(2);
      expect(await s.series.gatewayTelemetry('site-b', T0)).toEqual([
        { t: T0 + MIN, gatewayId: 'gw-b', outboxDepth: 3, uptimeS: 7 },
      ]);
      expect(await s.series.heartbeatGaps('site-a', T0, T0 + HOUR, 90_000)).toEqual([
        { gatewayId: 'gw-a', from: T0 + 5 * MIN, to: T0 + 10 * MIN, gapMs: 5 * MIN, restarted: true },
      ]);
      expect(await s.series.heartbeatGaps('site-a', T0, T0 + HOUR, 10 * MIN)).toEqual([]);
    });

    it('refuses a reversed range with a coded error', async () => {
      await expect(s.series.alertsPerHour(undefined, T0 + HOUR, T0)).rejects.toMatchObject({
        code: 'TIMESERIES_BAD_RANGE',
      });
    });

    it('refuses a bucket that is not a whole number of seconds (events are summed per second)', async () => {
      await expect(s.series.eventCountsByKind(undefined, T0, T0 + HOUR, 1500)).rejects.toMatchObject({
        code: 'TIMESERIES_BAD_BUCKET',
        message: expect.stringContaining('multiple of 1000'),
      });
      expect(await s.series.eventCountsByKind(['site-b'], T0, T0 + HOUR, 2000)).toEqual([
        { t: T0 + 16 * MIN, kind: 'camera_offline', count: 1 },
      ]);
    });
  });
}
