import type { LogEntry, LogQuery, NotificationLog } from '../../alerts/notify/log.js';
import { type Pool, tx } from './db.js';

interface Row {
  dedup_key: string;
  channel: string;
  alert_id: string;
  site_id: string;
  change: LogEntry['change'];
  level: number;
  status: LogEntry['status'];
  attempts: number;
  message_id: string | null;
  message_kind: LogEntry['messageKind'];
  last_error: string | null;
  recipients: string;
  created_at: number;
  updated_at: number;
  notification: string;
}

const COLUMNS = [
  'dedup_key',
  'channel',
  'alert_id',
  'site_id',
  'change',
  'level',
  'status',
  'attempts',
  'message_id',
  'message_kind',
  'last_error',
  'recipients',
  'created_at',
  'updated_at',
  'notification',
] as const;

/** The entry's columns, then the owner (not part of a LogEntry). */
const INSERT = `INSERT INTO notifications (${COLUMNS.join(', ')}, owner)
  VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}, $${COLUMNS.length + 1})`;

/**
 * Every column but the key takes the new value, as SQLite's INSERT OR
 * REPLACE does; the owner stays the instance that claimed it.
 */
const UPSERT = `${INSERT} ON CONFLICT (dedup_key, channel) DO UPDATE SET ${COLUMNS.slice(2)
  .map((c) => `${c} = EXCLUDED.${c}`)
  .join(', ')}`;

const values = (e: LogEntry): unknown[] => [
  e.dedupKey,
  e.channel,
  e.alertId,
  e.siteId,
  e.change,
  e.level,
  e.status,
  e.attempts,
  e.messageId,
  e.messageKind,
  e.lastError,
  JSON.stringify(e.recipients),
  e.createdAt,
  e.updatedAt,
  JSON.stringify(e.notification),
];

const fromRow = (r: Row): LogEntry => ({
  dedupKey: r.dedup_key,
  channel: r.channel,
  alertId: r.alert_id,
  siteId: r.site_id,
  change: r.change,
  level: r.level,
  status: r.status,
  attempts: r.attempts,
  messageId: r.message_id,
  messageKind: r.message_kind,
  lastError: r.last_error,
  recipients: JSON.parse(r.recipients) as string[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  notification: JSON.parse(r.notification) as LogEntry['notification'],
});

/** Milliseconds since the epoch on the database's clock, so instances' clocks need not agree. */
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/**
 * The notification log on PostgreSQL (primary key (dedup_key, channel)),
 * shared by the central instances. `claim` is INSERT ... ON CONFLICT DO
 * NOTHING: when several instances see the same alert change, the first
 * insert wins and the others wait for it to commit and then get false, so
 * each notification is sent by one instance only. The claiming instance
 * (`owner`, stable across its restarts) is the one that resends it.
 *
 * Each instance renews a lease in `notify_instances`; the pending entries of
 * an instance that stopped renewing (killed, its machine gone) are adopted by
 * a live one, holding the lapsed instance's row locked meanwhile: an UPDATE
 * of the owner that re-checks, row by row, that the owner is still the lapsed
 * one, so two adopters never take the same entry, and a renewal is ordered
 * before or after an adoption, never across it.
 */
export class PgNotificationLog implements NotificationLog {
  constructor(
    private readonly pool: Pool,
    private readonly owner: string,
  ) {}

  async claim(entry: LogEntry): Promise<boolean> {
    const r = await this.pool.query(`${INSERT} ON CONFLICT DO NOTHING`, [...values(entry), this.owner]);
    return r.rowCount === 1;
  }

  async record(...entries: LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (entries.length === 1) {
      await this.pool.query(UPSERT, [...values(entries[0]!), this.owner]);
      return;
    }
    await tx(this.pool, async (c) => {
      for (const e of entries) await c.query(UPSERT, [...values(e), this.owner]);
    });
  }

  async list(q: LogQuery = {}): Promise<LogEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const filters: Array<[string, unknown]> = [
      ['channel', q.channel],
      ['alert_id', q.alertId],
      ['dedup_key', q.dedupKey],
      ['status', q.status],
    ];
    for (const [col, v] of filters) {
      if (v === undefined) continue;
      args.push(v);
      where.push(`${col} = $${args.length}`);
    }
    args.push(q.limit ?? 1000);
    const r = await this.pool.query<Row>(
      `SELECT ${COLUMNS.join(', ')} FROM notifications ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, n DESC LIMIT $${args.length}`,
      args,
    );
    return r.rows.map(fromRow);
  }

  async renew(leaseMs: number): Promise<boolean> {
    const r = await this.pool.query<{ before: string | null; now: string }>(
      `WITH before AS (SELECT heartbeat_at FROM notify_instances WHERE id = $1)
       INSERT INTO notify_instances (id, heartbeat_at) VALUES ($1, ${NOW_MS})
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at
       RETURNING (SELECT heartbeat_at FROM before) AS before, heartbeat_at AS now`,
      [this.owner],
    );
    const row = r.rows[0]!;
    return row.before === null || Number(row.now) - Number(row.before) <= leaseMs;
  }

  async adopt(leaseMs: number, limit: number): Promise<LogEntry[]> {
    const rows = await tx(this.pool, async (c) => {
      // the lapsed instances' rows stay locked until the owners are moved: a renewal waits for
      // this and then finds its entries gone, or comes first and keeps them (the lock re-checks
      // the heartbeat), so an instance never resends what was adopted from it meanwhile
      const lapsed = await c.query<{ id: string }>(
        `SELECT id FROM notify_instances WHERE id <> $1 AND heartbeat_at < ${NOW_MS} - $2
         ORDER BY id FOR UPDATE`, // one lock order: two adopters never deadlock
        [this.owner, leaseMs],
      );
      if (lapsed.rows.length === 0) return [];
      const ids = lapsed.rows.map((r) => r.id);
      const r = await c.query<Row & { n: number }>(
        `WITH picked AS (
           SELECT dedup_key, channel FROM notifications
           WHERE status = 'pending' AND owner = ANY($2)
           ORDER BY created_at DESC, n DESC LIMIT $3
         )
         UPDATE notifications t SET owner = $1
         FROM picked p
         WHERE t.dedup_key = p.dedup_key AND t.channel = p.channel
           AND t.status = 'pending' AND t.owner = ANY($2)
         RETURNING ${COLUMNS.map((col) => `t.${col}`).join(', ')}, t.n`,
        [this.owner, ids, limit],
      );
      return r.rows;
    });
    return rows.sort((a, b) => b.created_at - a.created_at || b.n - a.n).map(fromRow);
  }

  async release(): Promise<void> {
    await this.pool.query('UPDATE notify_instances SET heartbeat_at = 0 WHERE id = $1', [this.owner]);
  }

  async resumable(limit: number): Promise<LogEntry[]> {
    const r = await this.pool.query<Row>(
      `SELECT ${COLUMNS.join(', ')} FROM notifications WHERE status = 'pending' AND owner = $1
       ORDER BY created_at DESC, n DESC LIMIT $2`,
      [this.owner, limit],
    );
    return r.rows.map(fromRow);
  }
}
