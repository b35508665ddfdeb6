import type { Envelope } from '../../protocol/index.js';
import type {
  EventCursor,
  EventQuery,
  EventRepo,
  IncomingEvent,
  RejectRecord,
  StoredEvent,
} from '../types.js';
import type { Db } from './open.js';
import { stmt } from './statements.js';
import { durableTransaction } from './wal-sync.js';

interface EventRow {
  id: string;
  site_id: string;
  device_id: string;
  kind: string;
  seq: number;
  ts: string;
  received_at: number;
  drill: number;
  gateway_id: string | null;
  body: string;
}

function toEvent(r: EventRow): StoredEvent {
  return {
    id: r.id,
    siteId: r.site_id,
    deviceId: r.device_id,
    kind: r.kind,
    seq: r.seq,
    ts: r.ts,
    receivedAt: r.received_at,
    drill: r.drill === 1,
    gatewayId: r.gateway_id,
    envelope: JSON.parse(r.body) as Envelope,
  };
}

function where(q: EventQuery): { sql: string; args: unknown[] } {
  const clauses: string[] = [];
  const args: unknown[] = [];
  if (q.siteIds) {
    clauses.push(`site_id IN (SELECT value FROM json_each(?))`);
    args.push(JSON.stringify(q.siteIds));
  }
  if (q.kinds) {
    clauses.push(`kind IN (SELECT value FROM json_each(?))`);
    args.push(JSON.stringify(q.kinds));
  }
  if (q.kind) {
    clauses.push('kind = ?');
    args.push(q.kind);
  }
  if (q.since !== undefined) {
    clauses.push('received_at >= ?');
    args.push(q.since);
  }
  if (q.until !== undefined) {
    clauses.push('received_at < ?');
    args.push(q.until);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', args };
}

export class SqliteEventRepo implements EventRepo {
  private readonly insert;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO events (id, site_id, device_id, kind, seq, ts, received_at, drill, gateway_id, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /** Durable when it resolves; the fsync runs off the event loop (`durableTransaction`). */
  async insertBatch(items: IncomingEvent[]): Promise<boolean[]> {
    return durableTransaction(this.db, () =>
      items.map(({ envelope: e, gatewayId, receivedAt }) => {
        const r = this.insert.run(
          e.id,
          e.siteId,
          e.deviceId,
          e.kind,
          e.seq,
          e.ts,
          receivedAt,
          e.drill ? 1 : 0,
          gatewayId,
          JSON.stringify(e),
        );
        return r.changes === 1;
      }),
    );
  }

  async markProcessed(id: string): Promise<void> {
    stmt(this.db, 'UPDATE events SET processed = 1 WHERE id = ?').run(id);
  }

  async markProcessedMany(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const mark = stmt(this.db, 'UPDATE events SET processed = 1 WHERE id = ?');
    await durableTransaction(this.db, () => {
      for (const id of ids) mark.run(id);
    });
  }

  async lastProcessedSeq(siteId: string, deviceId: string): Promise<number | null> {
    const r = stmt(
      this.db,
      'SELECT max(seq) AS s FROM events WHERE site_id = ? AND device_id = ? AND processed = 1',
    ).get(siteId, deviceId) as { s: number | null };
    return r.s;
  }

  async unprocessed(limit: number): Promise<StoredEvent[]> {
    return (
      stmt(this.db, 'SELECT * FROM events WHERE processed = 0 ORDER BY received_at, rowid LIMIT ?').all(
        limit,
      ) as EventRow[]
    ).map(toEvent);
  }

  async unprocessedOf(
    kinds: readonly string[],
    after: EventCursor | null,
    limit: number,
  ): Promise<StoredEvent[]> {
    if (kinds.length === 0) return [];
    const marks = kinds.map(() => '?').join(', ');
    const rows = stmt(
      this.db,
      `SELECT * FROM events WHERE processed = 0 AND kind IN (${marks}) AND (received_at, id) > (?, ?)
         ORDER BY received_at, id LIMIT ?`,
    ).all(...kinds, after?.receivedAt ?? -1, after?.id ?? '', limit) as EventRow[];
    return rows.map(toEvent);
  }

  async list(q: EventQuery): Promise<StoredEvent[]> {
    const w = where(q);
    const rows = stmt(
      this.db,
      `SELECT * FROM events ${w.sql} ORDER BY received_at DESC, rowid DESC LIMIT ?`,
    ).all(...w.args, q.limit ?? 1000) as EventRow[];
    return rows.map(toEvent);
  }

  async count(q: EventQuery = {}): Promise<number> {
    const w = where(q);
    return (stmt(this.db, `SELECT count(*) AS n FROM events ${w.sql}`).get(...w.args) as { n: number }).n;
  }

  async recordReject(r: RejectRecord): Promise<void> {
    stmt(
      this.db,
      'INSERT INTO rejects (at, gateway_id, topic, code, message, excerpt) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(r.at, r.gatewayId, r.topic, r.code, r.message, r.excerpt ?? null);
  }

  async rejects(limit: number): Promise<RejectRecord[]> {
    const rows = stmt(
      this.db,
      'SELECT at, gateway_id, topic, code, message, excerpt FROM rejects ORDER BY id DESC LIMIT ?',
    ).all(limit) as Array<{
      at: number;
      gateway_id: string | null;
      topic: string;
      code: string;
      message: string;
      excerpt: string | null;
    }>;
    return rows.map((r) => ({
      at: r.at,
      gatewayId: r.gateway_id,
      topic: r.topic,
      code: r.code,
      message: r.message,
      ...(r.excerpt ? { excerpt: r.excerpt } : {}),
    }));
  }
}
