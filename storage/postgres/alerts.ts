import { CarewatchError } from '../../lib/errors.js';
import { type AlertRow, toAlert } from '../rows.js';
import type {
  Alert,
  AlertKey,
  AlertQuery,
  AlertRepo,
  AlertState,
  AuditEntry,
  OpenDraft,
  OpenResult,
} from '../types.js';
import { type Client, type Pool, type Queryable, tx } from './db.js';

const one = (rows: AlertRow[]): Alert | null => (rows[0] ? toAlert(rows[0]) : null);

const KEY = 'site_id = $1 AND source = $2 AND type = $3';

/** How often an opener that lost the race for the key retries as a repeat before giving up. */
const OPEN_ATTEMPTS = 5;

type ResolveBy = { actor: string; at: number; note: string | null; eventId?: string | null };

async function addAudit(c: Queryable, e: AuditEntry): Promise<void> {
  await c.query(
    `INSERT INTO alert_audit (alert_id, at, actor, action, from_state, to_state, level, note, event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [e.alertId, e.at, e.actor, e.action, e.fromState, e.toState, e.level, e.note, e.eventId],
  );
}

/**
 * Claims the triggering event (processed false → true); false when it was
 * claimed before, by us or by another instance. A concurrent claimer waits
 * on the row lock and then sees it taken.
 */
async function claim(c: Client, eventId: string | undefined): Promise<boolean> {
  if (!eventId) return true;
  const r = await c.query('UPDATE events SET processed = TRUE WHERE id = $1 AND NOT processed', [eventId]);
  return r.rowCount === 1;
}

/**
 * Out-of-order events of one key (see the SQLite store): the key remembers
 * the newest sequence number applied and whether it opened or resolved. The
 * upsert only moves forward and locks the key's row, so concurrent events of
 * one key are ordered by it. Returns the newer operation when `seq` is late.
 */
async function late(
  c: Client,
  k: AlertKey,
  seq: number | undefined,
  op: 'open' | 'resolve',
): Promise<'open' | 'resolve' | null> {
  if (seq === undefined) return null;
  const moved = await c.query(
    `INSERT INTO alert_key_seq (site_id, source, type, last_seq, last_op) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (site_id, source, type) DO UPDATE SET last_seq = EXCLUDED.last_seq, last_op = EXCLUDED.last_op
       WHERE alert_key_seq.last_seq <= EXCLUDED.last_seq
     RETURNING last_seq`,
    [k.siteId, k.source, k.type, seq, op],
  );
  if (moved.rowCount === 1) return null;
  const r = await c.query<{ last_op: 'open' | 'resolve' }>(`SELECT last_op FROM alert_key_seq WHERE ${KEY}`, [
    k.siteId,
    k.source,
    k.type,
  ]);
  return r.rows[0]?.last_op ?? null;
}

async function applyResolve(c: Client, a: Alert, by: ResolveBy): Promise<Alert | null> {
  const r = await c.query<AlertRow>(
    `UPDATE alerts SET state = 'resolved', resolved_at = $1, resolved_by = $2, updated_at = $1,
       next_escalation_at = NULL WHERE id = $3 RETURNING *`,
    [by.at, by.actor, a.id],
  );
  await addAudit(c, {
    alertId: a.id,
    at: by.at,
    actor: by.actor,
    action: 'resolved',
    fromState: a.state,
    toState: 'resolved',
    level: a.escalationLevel,
    note: by.note,
    eventId: by.eventId ?? null,
  });
  return one(r.rows);
}

const openedAudit = (d: OpenDraft): AuditEntry => ({
  alertId: d.id,
  at: d.at,
  actor: d.actor,
  action: 'opened',
  fromState: null,
  toState: 'open',
  level: 0,
  note: null,
  eventId: d.eventId,
});

/**
 * Inserts the draft as a new open alert unless the key already has one; the
 * partial unique index `alerts_one_open` is the arbiter, so of two instances
 * opening the same key at once exactly one inserts (the other gets no row).
 */
async function insertOpen(c: Client, d: OpenDraft): Promise<Alert | null> {
  const r = await c.query<AlertRow>(
    `INSERT INTO alerts (id, site_id, source, type, severity, state, title, event_id, drill, count,
       opened_at, updated_at, escalation_level, next_escalation_at, suppressed)
     VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, 1, $9, $9, 0, $10, $11)
     ON CONFLICT (site_id, source, type) WHERE state <> 'resolved' DO NOTHING
     RETURNING *`,
    [
      d.id,
      d.siteId,
      d.source,
      d.type,
      d.severity,
      d.title,
      d.eventId,
      d.drill,
      d.at,
      d.nextEscalationAt,
      d.suppressed,
    ],
  );
  const alert = one(r.rows);
  if (alert) await addAudit(c, openedAudit(d));
  return alert;
}

/** A late open after a newer resolve: kept as history, resolved at once (never conflicts with an open one). */
async function insertResolvedLate(c: Client, d: OpenDraft): Promise<Alert> {
  const by = {
    actor: 'system:late-event',
    note: 'arrived after a later event of the same device had closed it',
  };
  const r = await c.query<AlertRow>(
    `INSERT INTO alerts (id, site_id, source, type, severity, state, title, event_id, drill, count,
       opened_at, updated_at, resolved_at, resolved_by, escalation_level, next_escalation_at, suppressed)
     VALUES ($1, $2, $3, $4, $5, 'resolved', $6, $7, $8, 1, $9, $9, $9, $10, 0, NULL, $11)
     RETURNING *`,
    [d.id, d.siteId, d.source, d.type, d.severity, d.title, d.eventId, d.drill, d.at, by.actor, d.suppressed],
  );
  await addAudit(c, openedAudit(d));
  await addAudit(c, {
    alertId: d.id,
    at: d.at,
    actor: by.actor,
    action: 'resolved',
    fromState: 'open',
    toState: 'resolved',
    level: 0,
    note: by.note,
    eventId: d.eventId,
  });
  return toAlert(r.rows[0]!);
}

export class PgAlertRepo implements AlertRepo {
  constructor(private readonly pool: Pool) {}

  async openOrRepeat(d: OpenDraft, processedEventId?: string): Promise<OpenResult | 'already-processed'> {
    return tx(this.pool, async (c): Promise<OpenResult | 'already-processed'> => {
      if (!(await claim(c, processedEventId))) return 'already-processed';
      if ((await late(c, d, d.seq, 'open')) === 'resolve') {
        return { alert: await insertResolvedLate(c, d), created: true };
      }
      for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
        const repeated = await c.query<AlertRow>(
          `UPDATE alerts SET count = count + 1, updated_at = $4
           WHERE ${KEY} AND state <> 'resolved' RETURNING *`,
          [d.siteId, d.source, d.type, d.at],
        );
        const open = one(repeated.rows);
        if (open) {
          await addAudit(c, {
            alertId: open.id,
            at: d.at,
            actor: d.actor,
            action: 'repeated',
            fromState: open.state,
            toState: open.state,
            level: open.escalationLevel,
            note: null,
            eventId: d.eventId,
          });
          return { alert: open, created: false };
        }
        const created = await insertOpen(c, d);
        if (created) return { alert: created, created: true };
        // another instance opened the key between our UPDATE and INSERT and has committed: a repeat now
      }
      throw new CarewatchError(
        'STORAGE_CONFLICT',
        `could not open or repeat alert ${d.siteId}/${d.source}/${d.type}: the key kept changing`,
        { siteId: d.siteId, source: d.source, type: d.type },
      );
    });
  }

  async resolveByKey(
    key: AlertKey,
    by: { actor: string; at: number; note: string; eventId: string | null; seq?: number | undefined },
    processedEventId?: string,
  ): Promise<Alert | null | 'already-processed'> {
    return tx(this.pool, async (c): Promise<Alert | null | 'already-processed'> => {
      if (!(await claim(c, processedEventId))) return 'already-processed';
      // a resolve older than the key's newest event changes nothing: the newer event decided
      if (await late(c, key, by.seq, 'resolve')) return null;
      const r = await c.query<AlertRow>(
        `SELECT * FROM alerts WHERE ${KEY} AND state <> 'resolved' FOR UPDATE`,
        [key.siteId, key.source, key.type],
      );
      const open = one(r.rows);
      return open ? applyResolve(c, open, by) : null;
    });
  }

  async transition(
    id: string,
    from: AlertState[],
    to: 'acknowledged' | 'resolved',
    by: { actor: string; at: number; note: string | null },
  ): Promise<Alert | null> {
    return tx(this.pool, async (c): Promise<Alert | null> => {
      // the row lock makes this a compare-and-set: a concurrent transition sees our result
      const a = one((await c.query<AlertRow>('SELECT * FROM alerts WHERE id = $1 FOR UPDATE', [id])).rows);
      if (!a || !from.includes(a.state)) return null;
      if (to === 'resolved') return applyResolve(c, a, by);
      const r = await c.query<AlertRow>(
        `UPDATE alerts SET state = 'acknowledged', acked_at = $1, acked_by = $2, updated_at = $1,
           next_escalation_at = NULL WHERE id = $3 RETURNING *`,
        [by.at, by.actor, id],
      );
      await addAudit(c, {
        alertId: id,
        at: by.at,
        actor: by.actor,
        action: 'acknowledged',
        fromState: a.state,
        toState: 'acknowledged',
        level: a.escalationLevel,
        note: by.note,
        eventId: null,
      });
      return one(r.rows);
    });
  }

  async escalate(
    id: string,
    fromLevel: number,
    at: number,
    nextEscalationAt: number | null,
    actor: string,
  ): Promise<Alert | null> {
    return tx(this.pool, async (c): Promise<Alert | null> => {
      const r = await c.query<AlertRow>(
        `UPDATE alerts SET escalation_level = escalation_level + 1, repeat_count = 0, next_escalation_at = $1,
           updated_at = $2
         WHERE id = $3 AND state = 'open' AND escalation_level = $4 RETURNING *`,
        [nextEscalationAt, at, id, fromLevel],
      );
      const a = one(r.rows);
      if (!a) return null;
      await addAudit(c, {
        alertId: id,
        at,
        actor,
        action: 'escalated',
        fromState: 'open',
        toState: 'open',
        level: fromLevel + 1,
        note: null,
        eventId: null,
      });
      return a;
    });
  }

  async renotify(id: string, r: Parameters<AlertRepo['renotify']>[1]): Promise<Alert | null> {
    return tx(this.pool, async (c): Promise<Alert | null> => {
      // the WHERE clause is the compare-and-set: a concurrent instance's UPDATE waits on the row and then misses
      const u = await c.query<AlertRow>(
        `UPDATE alerts SET repeat_count = $1, next_escalation_at = $2, updated_at = $3
         WHERE id = $4 AND state = 'open' AND escalation_level = $5 AND repeat_count = $6 RETURNING *`,
        [r.toRepeat, r.nextEscalationAt, r.at, id, r.level, r.fromRepeat],
      );
      const a = one(u.rows);
      if (!a) return null;
      await addAudit(c, {
        alertId: id,
        at: r.at,
        actor: r.actor,
        action: 'renotified',
        fromState: 'open',
        toState: 'open',
        level: r.level,
        note: r.note,
        eventId: null,
      });
      return a;
    });
  }

  async get(id: string): Promise<Alert | null> {
    return one((await this.pool.query<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id])).rows);
  }

  async list(q: AlertQuery): Promise<Alert[]> {
    const clauses: string[] = [];
    const args: unknown[] = [];
    const add = (column: string, values: string[]) => {
      args.push(values);
      clauses.push(`${column} = ANY($${args.length}::text[])`);
    };
    if (q.siteIds) add('site_id', q.siteIds);
    if (q.types) add('type', q.types);
    if (q.states) add('state', q.states);
    args.push(q.limit ?? 500);
    const r = await this.pool.query<AlertRow>(
      `SELECT * FROM alerts ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}
       ORDER BY opened_at DESC, id DESC LIMIT $${args.length}`,
      args,
    );
    return r.rows.map(toAlert);
  }

  async due(now: number, limit: number): Promise<Alert[]> {
    const r = await this.pool.query<AlertRow>(
      `SELECT * FROM alerts WHERE next_escalation_at IS NOT NULL AND next_escalation_at <= $1
       ORDER BY next_escalation_at LIMIT $2`,
      [now, limit],
    );
    return r.rows.map(toAlert);
  }

  async nextDueAt(): Promise<number | null> {
    const r = await this.pool.query<{ t: number | null }>(
      'SELECT min(next_escalation_at) AS t FROM alerts WHERE next_escalation_at IS NOT NULL',
    );
    return r.rows[0]?.t ?? null;
  }

  async audit(id: string): Promise<AuditEntry[]> {
    const r = await this.pool.query<{
      alert_id: string;
      at: number;
      actor: string;
      action: AuditEntry['action'];
      from_state: AlertState | null;
      to_state: AlertState | null;
      level: number | null;
      note: string | null;
      event_id: string | null;
    }>('SELECT * FROM alert_audit WHERE alert_id = $1 ORDER BY id', [id]);
    return r.rows.map((x) => ({
      alertId: x.alert_id,
      at: x.at,
      actor: x.actor,
      action: x.action,
      fromState: x.from_state,
      toState: x.to_state,
      level: x.level,
      note: x.note,
      eventId: x.event_id,
    }));
  }
}
