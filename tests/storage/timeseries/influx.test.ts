import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Influxd, startInfluxd } from '../../../lib/testkit/influxdb.js';
import { until } from '../../../lib/testkit/procs.js';
import { InfluxTimeSeries } from '../../../storage/timeseries/influx.js';
import type { Point } from '../../../storage/timeseries/types.js';
import { T0, timeSeriesContract } from './contract.js';

const HOUR = 3_600_000;
let server: Influxd | null = null;
let dbs = 0;

beforeAll(async () => {
  server = await startInfluxd();
  expect(server, 'influxd is installed by .ci/run (Debian package influxdb)').not.toBeNull();
}, 60_000);
afterAll(async () => server?.stop());

const open = (opts: Partial<ConstructorParameters<typeof InfluxTimeSeries>[0]> = {}) =>
  new InfluxTimeSeries({
    url: server!.url,
    layout: { database: `cw_test_${process.pid}_${++dbs}` },
    requestTimeoutMs: 2000,
    ...opts,
  });

const raw = (s: InfluxTimeSeries) =>
  new InfluxDB({ host: '127.0.0.1', port: server!.port, database: s.layout.database });

timeSeriesContract('InfluxDB 1.x', async () => {
  const series = open();
  await series.start();
  return { series, cleanup: () => series.stop() };
});

describe('InfluxTimeSeries', () => {
  it('creates the database, the retention policies and the continuous queries, idempotently', async () => {
    const a = open();
    await a.start();
    await a.start();
    const b = new InfluxTimeSeries({ url: server!.url, layout: { database: a.layout.database } });
    await b.start(); // a second instance on the same database
    const db = raw(a);
    const rps = await db.showRetentionPolicies();
    expect(rps.map((r) => [r.name, r.duration, r.default])).toEqual(
      expect.arrayContaining([
        ['rp_90d', '2160h0m0s', true],
        ['rp_1y', '8760h0m0s', false],
      ]),
    );
    const cqs = (await db.showContinousQueries()).map((c) => c.name).sort();
    expect(cqs).toEqual(['cq_alert_changes_1h', 'cq_events_1h', 'cq_gateway_heartbeat_1h']);
    await a.stop();
    await b.stop();
  });

  it('aggregates into rp_1y hourly with the continuous-query bodies (backfill)', async () => {
    const s = open();
    await s.start();
    const points: Point[] = [];
    for (let i = 0; i < 90; i++)
      points.push({ m: 'events', at: T0 + i * 60_000, siteId: 'site-a', kind: 'button_call' });
    points.push(
      {
        m: 'alert_changes',
        at: T0 + 1000,
        siteId: 'site-a',
        type: 't',
        severity: 'critical',
        change: 'opened',
      },
      {
        m: 'alert_changes',
        at: T0 + 61_000,
        siteId: 'site-a',
        type: 't',
        severity: 'critical',
        change: 'acknowledged',
        ackSeconds: 60,
      },
    );
    s.write(points);
    await s.flush();
    await s.backfillDownsampled(T0, T0 + 2 * HOUR);
    const r = (await raw(s).queryRaw(
      `SELECT "count" FROM "${s.layout.database}"."rp_1y"."events_1h" WHERE time >= ${T0}ms`,
      { precision: 'ms' },
    )) as { results: Array<{ series: Array<{ values: Array<[number, number]> }> }> };
    expect(r.results[0]!.series[0]!.values).toEqual([
      [T0, 60],
      [T0 + HOUR, 30],
    ]);
    const acks = (await raw(s).queryRaw(
      `SELECT "acks", "ack_mean_s" FROM "${s.layout.database}"."rp_1y"."alert_changes_1h" WHERE "change" = 'acknowledged'`,
      { precision: 'ms' },
    )) as { results: Array<{ series: Array<{ values: unknown[][] }> }> };
    expect(acks.results[0]!.series[0]!.values).toEqual([[T0, 1, 60]]);
    await s.stop();
  });

  it('loses no point when influxd is killed (SIGKILL) mid-stream and started again', async () => {
    const s = open({ batch: { maxBatch: 50, flushEveryMs: 20, retryInitialMs: 50, retryMaxMs: 400 } });
    await s.start();
    const total = 600;
    const sent: Point[] = [];
    const writeSome = async (from: number, n: number) => {
      for (let i = from; i < from + n; i += 10) {
        const batch = Array.from({ length: 10 }, (_, k) => ({
          m: 'events' as const,
          at: T0 + Math.floor((i + k) / 7) * 1000, // several points share a millisecond
          siteId: 'site-a',
          kind: (i + k) % 3 === 0 ? 'button_call' : 'attendance',
        }));
        sent.push(...batch);
        s.write(batch);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    await writeSome(0, 300);
    await until(async () => s.stats().written > 0, 5000, 5);
    const before = s.stats().written;
    await server!.kill('SIGKILL');
    await writeSome(300, 300);
    await until(async () => s.stats().failedFlushes > 0, 10_000);
    expect(s.stats().buffered).toBeGreaterThan(0);
    await server!.start();
    await until(
      () =>
        s.flush().then(
          () => true,
          () => false,
        ),
      20_000,
      100,
    );
    expect(sent).toHaveLength(total);
    expect(before).toBeLessThan(total);
    expect(s.stats()).toMatchObject({ buffered: 0, written: total, dropped: 0 });
    const counts = await s.eventCountsByKind(['site-a'], T0, T0 + HOUR, HOUR);
    expect(counts).toEqual([
      { t: T0, kind: 'attendance', count: 400 },
      { t: T0, kind: 'button_call', count: 200 },
    ]);
    await s.stop();
  }, 60_000);

  it('counts points beyond the retention policy as dropped instead of retrying them forever', async () => {
    const s = open();
    await s.start();
    const old = Date.now() - 200 * 86_400_000;
    s.write([
      { m: 'events', at: old, siteId: 'site-a', kind: 'button_call' },
      { m: 'events', at: T0, siteId: 'site-a', kind: 'button_call' },
      { m: 'events', at: T0 + 1, siteId: 'site-a', kind: 'button_call' },
    ]);
    await s.flush();
    expect(s.stats()).toMatchObject({ buffered: 0, written: 2, dropped: 1, failedFlushes: 0 });
    expect(await s.eventCountsByKind(undefined, T0, T0 + HOUR, HOUR)).toEqual([
      { t: T0, kind: 'button_call', count: 2 },
    ]);
    await s.stop();
  });

  it('refuses to start with a coded error when InfluxDB is unreachable', async () => {
    const s = new InfluxTimeSeries({ url: 'http://127.0.0.1:1', requestTimeoutMs: 500 });
    await expect(s.start()).rejects.toMatchObject({ code: 'TIMESERIES_UNAVAILABLE' });
  });
});
