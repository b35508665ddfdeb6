import type { AuditEntry, Severity } from '../types.js';

/**
 * Time series of the central: gateway health, events per kind and alert
 * changes. Points are written in batches (buffered, flushed every N points or
 * T ms) to InfluxDB 1.x or, with nothing installed, to an SQLite table.
 */

/** One gateway heartbeat: measurement `gateway_heartbeat`, tags site + gateway. */
export interface HeartbeatPoint {
  m: 'gateway_heartbeat';
  at: number;
  siteId: string;
  gatewayId: string;
  uptimeS: number;
  outboxDepth: number;
}

/**
 * Stored events of one site and kind: measurement `events`, tags site + kind,
 * field `count` (1 when absent). The recorder sums the events of one second
 * into one point (`at` at the start of that second).
 */
export interface EventPoint {
  m: 'events';
  at: number;
  siteId: string;
  kind: string;
  count?: number | undefined;
}

/** One alert change: measurement `alert_changes`, tags site, type, severity, change. */
export interface AlertChangePoint {
  m: 'alert_changes';
  at: number;
  siteId: string;
  type: string;
  severity: Severity;
  change: AuditEntry['action'];
  /** Seconds from opening to acknowledgement; only on `acknowledged`. */
  ackSeconds?: number | undefined;
}

export type Point = HeartbeatPoint | EventPoint | AlertChangePoint;

export interface CountBucket {
  /** Start of the bucket (ms since the epoch, aligned to the epoch like InfluxDB's GROUP BY time). */
  t: number;
  count: number;
}

export interface KindCountBucket extends CountBucket {
  kind: string;
}

export interface AckBucket {
  t: number;
  /** Acknowledgements in the bucket. */
  count: number;
  meanS: number;
  maxS: number;
}

export interface TelemetrySample {
  t: number;
  gatewayId: string;
  outboxDepth: number;
  uptimeS: number;
}

export interface HeartbeatGap {
  gatewayId: string;
  /** The last heartbeat before the gap and the first after it. */
  from: number;
  to: number;
  gapMs: number;
  /** Uptime went down across the gap: the gateway restarted. */
  restarted: boolean;
}

export interface WriteStats {
  /** Points buffered (including a batch in flight). */
  buffered: number;
  written: number;
  /** Points dropped because the buffer was full or left unwritten at stop. */
  dropped: number;
  failedFlushes: number;
}

export interface TimeSeries {
  start(): Promise<void>;
  /** Flushes what can be flushed (one attempt), then releases resources. */
  stop(): Promise<void>;
  /** Buffers points; never throws. They are written in batches. */
  write(points: Point[]): void;
  /** Writes everything buffered now; rejects (`TIMESERIES_WRITE_FAILED`) if the backend refuses, keeping the points. */
  flush(): Promise<void>;
  stats(): WriteStats;
  /** Alerts opened per hour, every hour bucket of [since, until) including empty ones. */
  alertsPerHour(siteIds: string[] | undefined, sinceMs: number, untilMs: number): Promise<CountBucket[]>;
  /** Acknowledgements per hour with mean and max time to acknowledge; hours without any are left out. */
  ackTimesPerHour(siteIds: string[] | undefined, sinceMs: number, untilMs: number): Promise<AckBucket[]>;
  /** Events per bucket and kind; empty buckets are left out. Sorted by t, then kind. */
  eventCountsByKind(
    siteIds: string[] | undefined,
    sinceMs: number,
    untilMs: number,
    bucketMs: number,
  ): Promise<KindCountBucket[]>;
  /** The site's heartbeats in [since, until), oldest first. */
  gatewayTelemetry(siteId: string, sinceMs: number, untilMs?: number): Promise<TelemetrySample[]>;
  /** Intervals longer than `minGapMs` between two heartbeats of one gateway. */
  heartbeatGaps(siteId: string, sinceMs: number, untilMs: number, minGapMs: number): Promise<HeartbeatGap[]>;
}
