import { type Clock, systemClock } from '../../lib/clock.js';
import { logger } from '../../lib/logger.js';
import { type Db, type Migration, migrate } from '../sqlite/open.js';
import { stmt } from '../sqlite/statements.js';
import { type BatchOptions, DEFAULT_BATCH, PointBatcher } from './batcher.js';
import { checkRange, fillBuckets, findGaps, HOUR_MS } from './buckets.js';
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

export const TIMESERIES_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE ts_heartbeats (
        at INTEGER NOT NULL, site_id TEXT NOT NULL, gateway_id TEXT NOT NULL,
        uptime_s REAL NOT NULL, outbox_depth INTEGER NOT NULL
      );
      CREATE INDEX ts_heartbeats_site_at ON ts_heartbeats (site_id, at);
      CREATE INDEX ts_heartbeats_at ON ts_heartbeats (at);
      CREATE TABLE ts_events (at INTEGER NOT NULL, site_id TEXT NOT NULL, kind TEXT NOT NULL);
      CREATE INDEX ts_events_at ON ts_events (at, site_id);
      CREATE TABLE ts_alert_changes (
        at INTEGER NOT NULL, site_id TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL,
        change TEXT NOT NULL, ack_seconds REAL
      );
      CREATE INDEX ts_alert_changes_change_at ON ts_alert_changes (change, at, site_id);
      CREATE INDEX ts_alert_changes_at ON ts_alert_changes (at);
    `,
  },
  {
    // one row per site, kind and second (the recorder sums them) instead of one per event
    version: 2,
    sql: 'ALTER TABLE ts_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;',
  },
];

export interface EmbeddedOptions {
  clock?: Clock;
  batch?: Partial<BatchOptions>;
  /** Points older than this are deleted (hourly, and at start). Default 90 days. */
  retentionMs?: number;
  onDrop?: (n: number) => void;
  /** Close the database at stop (when it was opened for this time series alone). */
  closeDb?: boolean;
}

/** `(? IS NULL OR site_id IN json_each(?))`: one prepared statement for "every site" and a list. */
const SITES = '(@sites IS NULL OR site_id IN (SELECT value FROM json_each(@sites)))';

/**
 * The time series in SQLite tables of a given database, so the central needs
 * nothing installed. Same queries and answers as the InfluxDB one.
 */
export class EmbeddedTimeSeries implements TimeSeries {
  private readonly clock: Clock;
  private readonly batcher: PointBatcher;
  private readonly retentionMs: number;
  private pruneTimer: { cancel(): void } | null = null;

  constructor(
    private readonly db: Db,
    private readonly opts: EmbeddedOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.retentionMs = opts.retentionMs ?? 90 * 24 * HOUR_MS;
    this.batcher = new PointBatcher(
      async (points) => this.insert(points),
      this.clock,
      { ...DEFAULT_BATCH, ...opts.batch },
      opts.onDrop,
    );
  }

  async start(): Promise<void> {
    migrate(this.db, TIMESERIES_MIGRATIONS, 'timeseries_migrations');
    this.prune();
  }

  async stop(): Promise<void> {
    this.pruneTimer?.cancel();
    this.pruneTimer = null;
    await this.batcher.stop();
    if (this.opts.closeDb) this.db.close();
  }

  write(points: Point[]): void {
    this.batcher.write(points);
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  stats(): WriteStats {
    return this.batcher.stats();
  }

  /** Deletes points past the retention, then again in an hour. */
  prune(): number {
    const before = this.clock.now() - this.retentionMs;
    let n = 0;
    for (const table of ['ts_heartbeats', 'ts_events', 'ts_alert_changes']) {
      n += stmt(this.db, `DELETE FROM ${table} WHERE at < ?`).run(before).changes;
    }
    if (n > 0) log.info({ deleted: n, before }, 'time series: old points deleted');
    this.pruneTimer?.cancel();
    this.pruneTimer = this.clock.setTimeout(() => this.prune(), HOUR_MS);
    return n;
  }

  private insert(points: Point[]): void {
    const hb = stmt(
      this.db,
      'INSERT INTO ts_heartbeats (at, site_id, gateway_id, uptime_s, outbox_depth) VALUES (?, ?, ?, ?, ?)',
    );
    const ev = stmt(this.db, 'INSERT INTO ts_events (at, site_id, kind, count) VALUES (?, ?, ?, ?)');
    const al = stmt(
      this.db,
      'INSERT INTO ts_alert_changes (at, site_id, type, severity, change, ack_seconds) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const p of points) {
        if (p.m === 'gateway_heartbeat') hb.run(p.at, p.siteId, p.gatewayId, p.uptimeS, p.outboxDepth);
        else if (p.m === 'events') ev.run(p.at, p.siteId, p.kind, p.count ?? 1);
        else al.run(p.at, p.siteId, p.type, p.severity, p.change, p.ackSeconds ?? null);
      }
    })();
  }

  async alertsPerHour(
    siteIds: string[] | undefined,
    sinceMs: number,
    untilMs: number,
  ): Promise<CountBucket[]> {
    checkRange(sinceMs, untilMs);
    const rows = stmt(
      this.db,
      `SELECT (at / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS t, COUNT(*) AS count FROM ts_alert_changes
         WHERE change = 'opened' AND at >= @since AND at < @until AND ${SITES} GROUP BY t`,
    ).all(params(siteIds, sinceMs, untilMs, HOUR_MS)) as CountBucket[];
    return fillBuckets(new Map(rows.map((r) => [r.t, r.count])), sinceMs, untilMs);
  }

  async ackTimesPerHour(
    siteIds: string[] | undefined,
    sinceMs: number,
    untilMs: number,
  ): Promise<AckBucket[]> {
    checkRange(sinceMs, untilMs);
    return stmt(
      this.db,
      `SELECT (at / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS t, COUNT(*) AS count, AVG(ack_seconds) AS meanS,
                MAX(ack_seconds) AS maxS
         FROM ts_alert_changes
         WHERE change = 'acknowledged' AND ack_seconds IS NOT NULL AND at >= @since AND at < @until
           AND ${SITES}
         GROUP BY t ORDER BY t`,
    ).all(params(siteIds, sinceMs, untilMs, HOUR_MS)) as AckBucket[];
  }

  async eventCountsByKind(
    siteIds: string[] | undefined,
    sinceMs: number,
    untilMs: number,
    bucketMs: number,
  ): Promise<KindCountBucket[]> {
    checkRange(sinceMs, untilMs, bucketMs);
    const rows = stmt(
      this.db,
      `SELECT (at / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS t, kind, SUM(count) AS count FROM ts_events
         WHERE at >= @since AND at < @until AND ${SITES} GROUP BY t, kind`,
    ).all(params(siteIds, sinceMs, untilMs, bucketMs)) as KindCountBucket[];
    return rows.sort(byTimeThenKind);
  }

  async gatewayTelemetry(
    siteId: string,
    sinceMs: number,
    untilMs = Number.MAX_SAFE_INTEGER,
  ): Promise<TelemetrySample[]> {
    return stmt(
      this.db,
      `SELECT at AS t, gateway_id AS gatewayId, outbox_depth AS outboxDepth, uptime_s AS uptimeS
         FROM ts_heartbeats WHERE site_id = ? AND at >= ? AND at < ? ORDER BY at, gateway_id`,
    ).all(siteId, sinceMs, untilMs) as TelemetrySample[];
  }

  async heartbeatGaps(
    siteId: string,
    sinceMs: number,
    untilMs: number,
    minGapMs: number,
  ): Promise<HeartbeatGap[]> {
    return findGaps(await this.gatewayTelemetry(siteId, sinceMs, untilMs), minGapMs);
  }
}

function params(siteIds: string[] | undefined, since: number, until: number, bucket: number) {
  return { sites: siteIds === undefined ? null : JSON.stringify(siteIds), since, until, bucket };
}
