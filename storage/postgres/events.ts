import type { Envelope } from '../../protocol/index.js';
import type {
  EventCursor,
  EventQuery,
  EventRepo,
  IncomingEvent,
  RejectRecord,
  StoredEvent,
} from '../types.js';
import { type Pool, type Queryable, retrying, tx } from './db.js';

interface EventRow {
  id: string;
  site_id: string;
  device_id: string;
  kind: string;
  seq: number;
  ts: string;
  received_at: number;
  drill: boolean;
  gateway_id: string | null;
  body: string;
}

const COLUMNS = 'id, site_id, device_id, kind, seq, ts, received_at, drill, gateway_id, body';

function toEvent(r: EventRow): StoredEvent {
  return {
    id: r.id,
    siteId: r.site_id,
    deviceId: r.device_id,
    kind: r.kind,
    seq: r.seq,
    ts: r.ts,
    receivedAt: r.received_at,
    drill: r.drill,
    gatewayId: r.gateway_id,
    envelope: JSON.parse(r.body) as Envelope,
  };
}

function where(q: EventQuery): { sql: string; args: unknown[] } {
  const clauses: string[] = [];
  const args: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    args.push(value);
    clauses.push(clause.replace('?', `$${args.length}`));
  };
  if (q.siteIds) add('site_id = ANY(?::text[])', q.siteIds);
  if (q.kinds) add('kind = ANY(?::text[])', q.kinds);
  if (q.kind) add('kind = ?', q.kind);
  if (q.since !== undefined) add('received_at >= ?', q.since);
  if (q.until !== undefined) add('received_at < ?', q.until);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', args };
}

/** Rows per INSERT statement: 10 parameters a row, well below the protocol's 65,535. */
const ROWS_PER_STATEMENT = 1000;

/** One multi-row INSERT; returns the ids that were new. */
async function insertChunk(db: Queryable, chunk: IncomingEvent[]): Promise<string[]> {
  const values: unknown[] = [];
  const rows = chunk.map(({ envelope: e, gatewayId, receivedAt }) => {
    const base = values.length;
    values.push(
      e.id,
      e.siteId,
      e.deviceId,
      e.kind,
      e.seq,
      e.ts,
      receivedAt,
      e.drill === true,
      gatewayId,
      JSON.stringify(e),
    );
    return `(${Array.from({ length: 10 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
  });
  const r = await db.query<{ id: string }>(
    `INSERT INTO events (${COLUMNS}) VALUES ${rows.join(', ')} ON CONFLICT (id) DO NOTHING RETURNING id`,
    values,
  );
  return r.rows.map((row) => row.id);
}

export class PgEventRepo implements EventRepo {
  constructor(private readonly pool: Pool) {}

  async insertBatch(items: IncomingEvent[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const chunks: IncomingEvent[][] = [];
    for (let i = 0; i < items.length; i += ROWS_PER_STATEMENT)
      chunks.push(items.slice(i, i + ROWS_PER_STATEMENT));
    const ids = new Set<string>();
    const run = async (db: Queryable) => {
      ids.clear(); // a retried transaction starts over
      for (const chunk of chunks) for (const id of await insertChunk(db, chunk)) ids.add(id);
    };
    // one statement is atomic on its own; several share one transaction
    if (chunks.length === 1) await retrying(() => run(this.pool));
    else await tx(this.pool, run);
    // a duplicate inside the batch: only its first occurrence is new
    return items.map(({ envelope: e }) => ids.delete(e.id));
  }

  async markProcessed(id: string): Promise<void> {
    await this.pool.query('UPDATE events SET processed = TRUE WHERE id = $1 AND NOT processed', [id]);
  }

  async markProcessedMany(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query('UPDATE events SET processed = TRUE WHERE id = ANY($1::text[]) AND NOT processed', [
      ids,
    ]);
  }

  async lastProcessedSeq(siteId: string, deviceId: string): Promise<number | null> {
    const r = await this.pool.query<{ s: number | null }>(
      'SELECT max(seq) AS s FROM events WHERE site_id = $1 AND device_id = $2 AND processed',
      [siteId, deviceId],
    );
    return r.rows[0]?.s ?? null;
  }

  async unprocessed(limit: number): Promise<StoredEvent[]> {
    const r = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE NOT processed ORDER BY received_at, n LIMIT $1`,
      [limit],
    );
    return r.rows.map(toEvent);
  }

  async unprocessedOf(
    kinds: readonly string[],
    after: EventCursor | null,
    limit: number,
  ): Promise<StoredEvent[]> {
    if (kinds.length === 0) return [];
    const r = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM events
        WHERE NOT processed AND kind = ANY($1::text[]) AND (received_at, id) > ($2, $3)
        ORDER BY received_at, id LIMIT $4`,
      [kinds, after?.receivedAt ?? -1, after?.id ?? '', limit],
    );
    return r.rows.map(toEvent);
  }

  async list(q: EventQuery): Promise<StoredEvent[]> {
    const w = where(q);
    const r = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM events ${w.sql} ORDER BY received_at DESC, n DESC LIMIT $${w.args.length + 1}`,
      [...w.args, q.limit ?? 1000],
    );
    return r.rows.map(toEvent);
  }

  async count(q: EventQuery = {}): Promise<number> {
    const w = where(q);
    const r = await this.pool.query<{ n: number }>(`SELECT count(*) AS n FROM events ${w.sql}`, w.args);
    return r.rows[0]?.n ?? 0;
  }

  async recordReject(r: RejectRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO rejects (at, gateway_id, topic, code, message, excerpt) VALUES ($1, $2, $3, $4, $5, $6)',
      [r.at, r.gatewayId, r.topic, r.code, r.message, r.excerpt ?? null],
    );
  }

  async rejects(limit: number): Promise<RejectRecord[]> {
    const r = await this.pool.query<{
      at: number;
      gateway_id: string | null;
      topic: string;
      code: string;
      message: string;
      excerpt: string | null;
    }>('SELECT at, gateway_id, topic, code, message, excerpt FROM rejects ORDER BY id DESC LIMIT $1', [
      limit,
    ]);
    return r.rows.map((x) => ({
      at: x.at,
      gatewayId: x.gateway_id,
      topic: x.topic,
      code: x.code,
      message: x.message,
      ...(x.excerpt ? { excerpt: x.excerpt } : {}),
    }));
  }
}
