/**
 * The InfluxDB 1.x layout: raw points in a default retention policy (90 days),
 * hourly aggregates in `rp_1y` filled by one continuous query per measurement.
 */

export interface InfluxLayout {
  database: string;
  /** Raw points; the database's default policy. */
  rawPolicy: string;
  rawDuration: string;
  /** Hourly aggregates written by the continuous queries. */
  downsampledPolicy: string;
  downsampledDuration: string;
}

export const DEFAULT_LAYOUT: InfluxLayout = {
  database: 'carewatch',
  rawPolicy: 'rp_90d',
  rawDuration: '90d',
  downsampledPolicy: 'rp_1y',
  downsampledDuration: '365d',
};

/** An InfluxQL identifier in double quotes. */
export const ident = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
/** An InfluxQL string literal in single quotes. */
export const lit = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export interface Downsample {
  /** Continuous query name. */
  name: string;
  from: string;
  into: string;
  select: string;
}

export const DOWNSAMPLES: Downsample[] = [
  {
    name: 'cq_events_1h',
    from: 'events',
    into: 'events_1h',
    select: 'sum("count") AS "count"',
  },
  {
    name: 'cq_alert_changes_1h',
    from: 'alert_changes',
    into: 'alert_changes_1h',
    select:
      'sum("count") AS "count", count("ack_seconds") AS "acks", mean("ack_seconds") AS "ack_mean_s", max("ack_seconds") AS "ack_max_s"',
  },
  {
    name: 'cq_gateway_heartbeat_1h',
    from: 'gateway_heartbeat',
    into: 'gateway_heartbeat_1h',
    select:
      'count("uptime_s") AS "heartbeats", max("uptime_s") AS "uptime_s", mean("outbox_depth") AS "outbox_depth_mean", max("outbox_depth") AS "outbox_depth_max"',
  },
];

const qualified = (l: InfluxLayout, policy: string, m: string) =>
  `${ident(l.database)}.${ident(policy)}.${ident(m)}`;

/** The body of a downsampling query; `where` narrows it for a backfill. */
export function downsampleSelect(l: InfluxLayout, d: Downsample, where = ''): string {
  return (
    `SELECT ${d.select} INTO ${qualified(l, l.downsampledPolicy, d.into)} ` +
    `FROM ${qualified(l, l.rawPolicy, d.from)}${where ? ` WHERE ${where}` : ''} GROUP BY time(1h), *`
  );
}

export function createContinuousQuery(l: InfluxLayout, d: Downsample): string {
  return `CREATE CONTINUOUS QUERY ${ident(d.name)} ON ${ident(l.database)} BEGIN ${downsampleSelect(l, d)} END`;
}

export function retentionPolicy(
  l: InfluxLayout,
  which: 'raw' | 'downsampled',
  verb: 'CREATE' | 'ALTER',
): string {
  const [name, duration] =
    which === 'raw' ? [l.rawPolicy, l.rawDuration] : [l.downsampledPolicy, l.downsampledDuration];
  return (
    `${verb} RETENTION POLICY ${ident(name)} ON ${ident(l.database)} DURATION ${duration} REPLICATION 1` +
    (which === 'raw' ? ' DEFAULT' : '')
  );
}
