import { randomInt } from 'node:crypto';
import { InfluxDB, type IPoint } from 'influx';
import { type Clock, systemClock } from '../../lib/clock.js';
import { CarewatchError, errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { type BatchOptions, DEFAULT_BATCH, POINTS_REFUSED, PointBatcher } from './batcher.js';
import { checkRange, fillBuckets, findGaps } from './buckets.js';
import {
  createContinuousQuery,
  DEFAULT_LAYOUT,
  DOWNSAMPLES,
  downsampleSelect,
  type InfluxLayout,
  ident,
  lit,
  retentionPolicy,
} from './influx-schema.js';
import { byTimeThenKind } from './sort.js';
import type {
  AckBucket,
  CountBucket,
  HeartbeatGap,
  KindCountBucket,
  Point,
  TelemetrySample,
  TimeSeries,
  WriteStats,
} from './types.js';

const log = logger('storage:timeseries');

export interface InfluxOptions {
  /** e.g. http://127.0.0.1:8086 */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  layout?: Partial<InfluxLayout>;
  batch?: Partial<BatchOptions>;
  requestTimeoutMs?: number;
  clock?: Clock;
  onDrop?: (n: number) => void;
}

interface RawSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/**
 * The time series in InfluxDB 1.x (`influx` client). Creates the database,
 * its retention policies and downsampling continuous queries at start;
 * writes in batches with retries.
 *
 * Each point gets a nanosecond timestamp: its millisecond time plus a
 * per-process offset, so two events of one site and kind in the same
 * millisecond stay two points (InfluxDB keeps one point per series and
 * timestamp), and a retried batch overwrites itself instead of doubling.
 */
export class InfluxTimeSeries implements TimeSeries {
  readonly layout: InfluxLayout;
  private readonly influx: InfluxDB;
  private readonly batcher: PointBatcher<IPoint>;
  private seq = randomInt(1_000_000);

  constructor(private readonly opts: InfluxOptions) {
    this.layout = { ...DEFAULT_LAYOUT, ...opts.layout };
    const url = new URL(opts.url);
    this.influx = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 8086)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: this.layout.database,
      username: opts.username ?? 'root',
      password: opts.password ?? 'root',
      pool: { maxRetries: 0, requestTimeout: opts.requestTimeoutMs ?? 10_000 },
    });
    this.batcher = new PointBatcher<IPoint>(
      (points) => this.send(points),
      opts.clock ?? systemClock,
      { ...DEFAULT_BATCH, ...opts.batch },
      opts.onDrop,
    );
  }

  /** Database, retention policies and continuous queries; idempotent, safe with several instances. */
  async start(): Promise<void> {
    const l = this.layout;
    try {
      await this.exec(`CREATE DATABASE ${ident(l.database)}`);
      const policies = new Set((await this.influx.showRetentionPolicies(l.database)).map((p) => p.name));
      for (const which of ['raw', 'downsampled'] as const) {
        const name = which === 'raw' ? l.rawPolicy : l.downsampledPolicy;
        await this.exec(retentionPolicy(l, which, policies.has(name) ? 'ALTER' : 'CREATE'));
      }
      const cqs = new Set((await this.influx.showContinousQueries(l.database)).map((c) => c.name));
      for (const d of DOWNSAMPLES) {
        if (!cqs.has(d.name)) await this.exec(createContinuousQuery(l, d), /already exists/);
      }
    } catch (err) {
      throw new CarewatchError(
        'TIMESERIES_UNAVAILABLE',
        `InfluxDB at ${this.opts.url}: ${errorMessage(err)}`,
        { url: this.opts.url, database: l.database },
        { cause: err },
      );
    }
    log.info({ url: this.opts.url, database: l.database, policy: l.rawPolicy }, 'InfluxDB time series ready');
  }

  async stop(): Promise<void> {
    await this.batcher.stop();
  }

  write(points: Point[]): void {
    this.batcher.write(points.map((p) => this.toInflux(p)));
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  stats(): WriteStats {
    return this.batcher.stats();
  }

  /** Runs the downsampling queries over [since, until) now (after an outage, or for data written late). */
  async backfillDownsampled(sinceMs: number, untilMs: number): Promise<void> {
    for (const d of DOWNSAMPLES) {
      await this.exec(downsampleSelect(this.layout, d, timeRange(sinceMs, untilMs)));
    }
  }

  async alertsPerHour(
    siteIds: string[] | undefined,
    sinceMs: number,
    untilMs: number,
  ): Promise<CountBucket[]> {
    checkRange(sinceMs, untilMs);
    const counts = new Map<number, number>();
    if (siteIds?.length !== 0) {
      const series = await this.select(
        `SELECT sum("count") FROM ${this.raw('alert_changes')} WHERE "change" = 'opened' AND ${where(siteIds, sinceMs, untilMs)} GROUP BY time(1h) fill(none)`,
      );
      for (const row of series.flatMap((s) => s.values)) counts.set(row[0] as number, row[1] as number);
    }
    return fillBuckets(counts, sinceMs, untilMs);
  }

  async ackTimesPerHour(
    siteIds: string[] | undefined,
    sinceMs: number,
    untilMs: number,
  ): Promise<AckBucket[]> {
    checkRange(sinceMs, untilMs);
    if (siteIds?.length === 0) return [];
    const series = await this.select(
      `SELECT count("ack_seconds"), mean("ack_seconds"), max("ack_seconds") FROM ${this.raw('alert_changes')} WHERE "change" = 'acknowledged' AND ${where(siteIds, sinceMs, untilMs)} GROUP BY time(1h) fill(none)`,
    );
    return series
      .flatMap((s) => s.values)
      .map(([t, count, meanS, maxS]) => ({
        t: t as number,
        count: count as number,
        meanS: meanS as number,
        maxS: maxS as number,
      }))
      .sort((a, b) => a.t - b.t);
  }

  async eventCountsByKind(
    siteIds: string[] | undefined,
    sinceMs: number,
    untilMs: number,
    bucketMs: number,
  ): Promise<KindCountBucket[]> {
    checkRange(sinceMs, untilMs, bucketMs);
    if (siteIds?.length === 0) return [];
    const series = await this.select(
      `SELECT sum("count") FROM ${this.raw('events')} WHERE ${where(siteIds, sinceMs, untilMs)} GROUP BY time(${bucketMs}ms), "kind" fill(none)`,
    );
    return series
      .flatMap((s) =>
        s.values.map(([t, count]) => ({ t: t as number, kind: s.tags?.kind ?? '', count: count as number })),
      )
      .sort(byTimeThenKind);
  }

  async gatewayTelemetry(siteId: string, sinceMs: number, untilMs?: number): Promise<TelemetrySample[]> {
    const series = await this.select(
      `SELECT "gateway", "outbox_depth", "uptime_s" FROM ${this.raw('gateway_heartbeat')} WHERE ${where([siteId], sinceMs, untilMs)}`,
    );
    return series
      .flatMap((s) => s.values)
      .map(([t, gatewayId, outboxDepth, uptimeS]) => ({
        t: t as number,
        gatewayId: gatewayId as string,
        outboxDepth: outboxDepth as number,
        uptimeS: uptimeS as number,
      }))
      .sort((a, b) => a.t - b.t || (a.gatewayId < b.gatewayId ? -1 : a.gatewayId > b.gatewayId ? 1 : 0));
  }

  async heartbeatGaps(
    siteId: string,
    sinceMs: number,
    untilMs: number,
    minGapMs: number,
  ): Promise<HeartbeatGap[]> {
    return findGaps(await this.gatewayTelemetry(siteId, sinceMs, untilMs), minGapMs);
  }

  private toInflux(p: Point): IPoint {
    this.seq = (this.seq + 1) % 1_000_000;
    const timestamp = `${Math.round(p.at)}${String(this.seq).padStart(6, '0')}`;
    switch (p.m) {
      case 'gateway_heartbeat':
        return {
          measurement: p.m,
          tags: { site: p.siteId, gateway: p.gatewayId },
          fields: { uptime_s: p.uptimeS, outbox_depth: p.outboxDepth },
          timestamp,
        };
      case 'events':
        return {
          measurement: p.m,
          tags: { site: p.siteId, kind: p.kind },
          fields: { count: p.count ?? 1 },
          timestamp,
        };
      case 'alert_changes':
        return {
          measurement: p.m,
          tags: { site: p.siteId, type: p.type, severity: p.severity, change: p.change },
          fields: p.ackSeconds === undefined ? { count: 1 } : { count: 1, ack_seconds: p.ackSeconds },
          timestamp,
        };
    }
  }

  /** Writes one batch; a 400 (partial write, parse error) is final, anything else is retried. */
  private async send(points: IPoint[]): Promise<void> {
    try {
      await this.influx.writePoints(points, {
        precision: 'n',
        database: this.layout.database,
        retentionPolicy: this.layout.rawPolicy,
      });
    } catch (err) {
      const status = (err as { res?: { statusCode?: number } }).res?.statusCode;
      if (status !== 400) throw err;
      const msg = errorMessage(err);
      const partial = /partial write:.*dropped=(\d+)/.exec(msg);
      throw new CarewatchError(
        POINTS_REFUSED,
        `InfluxDB refused points: ${msg.replace(/^A 400 Bad Request error occurred: /, '')}`,
        { refused: partial ? Number(partial[1]) : points.length },
      );
    }
  }

  private raw(measurement: string): string {
    return `${ident(this.layout.database)}.${ident(this.layout.rawPolicy)}.${ident(measurement)}`;
  }

  private async select(q: string): Promise<RawSeries[]> {
    const res = (await this.influx.queryRaw(q, { precision: 'ms', database: this.layout.database })) as {
      results?: Array<{ series?: RawSeries[]; error?: string }>;
    };
    const r = res.results?.[0];
    if (r?.error) throw new CarewatchError('TIMESERIES_QUERY_FAILED', `InfluxDB: ${r.error}`, { query: q });
    return r?.series ?? [];
  }

  private async exec(q: string, ignore?: RegExp): Promise<void> {
    let error: string | undefined;
    try {
      const res = (await this.influx.queryRaw(q, { database: this.layout.database, method: 'POST' })) as {
        results?: Array<{ error?: string }>;
      };
      error = res.results?.[0]?.error;
    } catch (err) {
      if (!ignore?.test(errorMessage(err))) throw err;
    }
    if (error && !ignore?.test(error)) {
      throw new CarewatchError('TIMESERIES_QUERY_FAILED', `InfluxDB: ${error}`, { query: q });
    }
  }
}

function timeRange(sinceMs: number, untilMs?: number): string {
  const since = `time >= ${Math.floor(sinceMs)}ms`;
  return untilMs === undefined ? since : `${since} AND time < ${Math.floor(untilMs)}ms`;
}

function where(siteIds: string[] | undefined, sinceMs: number, untilMs?: number): string {
  const sites =
    siteIds === undefined ? '' : `(${siteIds.map((s) => `"site" = ${lit(s)}`).join(' OR ')}) AND `;
  return sites + timeRange(sinceMs, untilMs);
}
