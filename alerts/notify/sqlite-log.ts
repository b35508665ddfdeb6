import type Database from 'better-sqlite3';
import { stmt } from '../../storage/sqlite/statements.js';
import type { LogEntry, LogQuery, NotificationLog } from './log.js';

export const NOTIFY_MIGRATIONS: Array<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE notifications (
        dedup_key    TEXT    NOT NULL,
        channel      TEXT    NOT NULL,
        alert_id     TEXT    NOT NULL,
        site_id      TEXT    NOT NULL,
        change       TEXT    NOT NULL,
        level        INTEGER NOT NULL,
        status       TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts     INTEGER NOT NULL DEFAULT 0,
        message_id   TEXT,
        message_kind TEXT,
        last_error   TEXT,
        recipients   TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        notification TEXT    NOT NULL,
        PRIMARY KEY (dedup_key, channel)
      );
      CREATE INDEX notifications_status ON notifications (status, created_at);
      CREATE INDEX notifications_alert ON notifications (alert_id, created_at);
    `,
  },
  {
    // PostgreSQL's version 2 (leases of instances sharing one log), mirrored so both schemas
    // keep one version sequence; an SQLite log has one writer, which never adopts from another
    version: 2,
    sql: `CREATE TABLE notify_instances (id TEXT PRIMARY KEY, heartbeat_at INTEGER NOT NULL);`,
  },
];

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

const COLUMNS =
  'dedup_key, channel, alert_id, site_id, change, level, status, attempts, message_id, message_kind, last_error, recipients, created_at, updated_at, notification';
const PARAMS =
  '@dedup_key, @channel, @alert_id, @site_id, @change, @level, @status, @attempts, @message_id, @message_kind, @last_error, @recipients, @created_at, @updated_at, @notification';

function toRow(e: LogEntry): Row {
  return {
    dedup_key: e.dedupKey,
    channel: e.channel,
    alert_id: e.alertId,
    site_id: e.siteId,
    change: e.change,
    level: e.level,
    status: e.status,
    attempts: e.attempts,
    message_id: e.messageId,
    message_kind: e.messageKind,
    last_error: e.lastError,
    recipients: JSON.stringify(e.recipients),
    created_at: e.createdAt,
    updated_at: e.updatedAt,
    notification: JSON.stringify(e.notification),
  };
}

function fromRow(r: Row): LogEntry {
  return {
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
  };
}

/**
 * The notification log in the caller's SQLite database (table
 * `notifications`, primary key (dedup_key, channel)): the dedup survives a
 * restart, and pending entries are sent after it. Call `migrate()` once
 * before use; it keeps its own version table `notify_migrations`.
 */
export class SqliteNotificationLog implements NotificationLog {
  constructor(private readonly db: Database.Database) {}

  migrate(): void {
    const db = this.db;
    db.exec(
      'CREATE TABLE IF NOT EXISTS notify_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
    const done = new Set(
      (db.prepare('SELECT version FROM notify_migrations').all() as Array<{ version: number }>).map(
        (r) => r.version,
      ),
    );
    for (const m of NOTIFY_MIGRATIONS) {
      if (done.has(m.version)) continue;
      db.transaction(() => {
        db.exec(m.sql);
        db.prepare('INSERT INTO notify_migrations (version, applied_at) VALUES (?, ?)').run(
          m.version,
          Date.now(),
        );
      })();
    }
  }

  async claim(entry: LogEntry): Promise<boolean> {
    const r = stmt(this.db, `INSERT OR IGNORE INTO notifications (${COLUMNS}) VALUES (${PARAMS})`).run(
      toRow(entry),
    );
    return r.changes === 1;
  }

  async record(...entries: LogEntry[]): Promise<void> {
    const upsert = stmt(this.db, `INSERT OR REPLACE INTO notifications (${COLUMNS}) VALUES (${PARAMS})`);
    this.db.transaction((es: LogEntry[]) => {
      for (const e of es) upsert.run(toRow(e));
    })(entries);
  }

  async list(q: LogQuery = {}): Promise<LogEntry[]> {
    const where: string[] = [];
    const args: Record<string, unknown> = { limit: q.limit ?? 1000 };
    if (q.channel !== undefined) {
      where.push('channel = @channel');
      args.channel = q.channel;
    }
    if (q.alertId !== undefined) {
      where.push('alert_id = @alertId');
      args.alertId = q.alertId;
    }
    if (q.dedupKey !== undefined) {
      where.push('dedup_key = @dedupKey');
      args.dedupKey = q.dedupKey;
    }
    if (q.status !== undefined) {
      where.push('status = @status');
      args.status = q.status;
    }
    const rows = stmt(
      this.db,
      `SELECT ${COLUMNS} FROM notifications ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
    ).all(args) as Row[];
    return rows.map(fromRow);
  }
}
