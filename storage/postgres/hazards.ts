import type {
  FalseAlarm,
  Hazard,
  HazardDraft,
  HazardFilter,
  HazardKind,
  HazardLogEntry,
  HazardRepo,
  HazardState,
  HazardWatch,
} from '../../alerts/hazards/types.js';
import { type Pool, type Queryable, tx } from './db.js';

interface HazardRow {
  id: string;
  site_id: string;
  source: string;
  kind: HazardKind;
  title: string;
  opened_at: number;
  alert_id: string | null;
  responsible: string | null;
  rectify_by: number | null;
  state: HazardState;
  closed_at: number | null;
  closed_by: string | null;
  close_note: string | null;
  escalated_at: number | null;
}

const toHazard = (r: HazardRow): Hazard => ({
  id: r.id,
  siteId: r.site_id,
  source: r.source,
  kind: r.kind,
  title: r.title,
  openedAt: r.opened_at,
  alertId: r.alert_id,
  responsible: r.responsible,
  rectifyBy: r.rectify_by,
  state: r.state,
  closedAt: r.closed_at,
  closedBy: r.closed_by,
  closeNote: r.close_note,
  escalatedAt: r.escalated_at,
});

const one = (rows: HazardRow[]): Hazard | null => (rows[0] ? toHazard(rows[0]) : null);

/**
 * The hazard ledger on PostgreSQL, shared by every central instance. Opening
 * is an INSERT ... ON CONFLICT DO NOTHING against the two partial unique
 * indexes (one open entry per key, one entry per alert); assign, close and
 * the overdue notice are conditional UPDATEs whose log line is written in the
 * same transaction. Counting false alarms takes a transaction-scoped advisory
 * lock per (site, source), so two instances recording the last two alarms of
 * a series at once still see each other's and open exactly one entry.
 */
export class PgHazardRepo implements HazardRepo {
  constructor(private readonly pool: Pool) {}

  private async append(q: Queryable, e: HazardLogEntry): Promise<void> {
    await q.query('INSERT INTO hazard_log (hazard_id, at, actor, action, note) VALUES ($1, $2, $3, $4, $5)', [
      e.hazardId,
      e.at,
      e.actor,
      e.action,
      e.note,
    ]);
  }

  private async insert(q: Queryable, d: HazardDraft): Promise<Hazard | null> {
    const r = await q.query<HazardRow>(
      `INSERT INTO hazards (id, site_id, source, kind, title, opened_at, alert_id, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'open') ON CONFLICT DO NOTHING RETURNING *`,
      [d.id, d.siteId, d.source, d.kind, d.title, d.at, d.alertId],
    );
    if (r.rowCount === 0) return null;
    await this.append(q, { hazardId: d.id, at: d.at, actor: d.actor, action: 'opened', note: d.title });
    return one(r.rows);
  }

  open(d: HazardDraft): Promise<Hazard | null> {
    return tx(this.pool, (c) => this.insert(c, d));
  }

  async get(id: string): Promise<Hazard | null> {
    return one((await this.pool.query<HazardRow>('SELECT * FROM hazards WHERE id = $1', [id])).rows);
  }

  async list(f: HazardFilter): Promise<Hazard[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const [col, values] of [
      ['site_id', f.siteIds],
      ['state', f.states],
      ['kind', f.kinds],
    ] as const) {
      if (!values) continue;
      if (values.length === 0) return [];
      args.push(values);
      where.push(`${col} = ANY($${args.length}::text[])`);
    }
    args.push(f.limit ?? 1000);
    const r = await this.pool.query<HazardRow>(
      `SELECT * FROM hazards ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY opened_at DESC, id DESC LIMIT $${args.length}`,
      args,
    );
    return r.rows.map(toHazard);
  }

  async log(id: string): Promise<HazardLogEntry[]> {
    const r = await this.pool.query<{
      hazard_id: string;
      at: number;
      actor: string;
      action: HazardLogEntry['action'];
      note: string | null;
    }>('SELECT * FROM hazard_log WHERE hazard_id = $1 ORDER BY id', [id]);
    return r.rows.map((x) => ({
      hazardId: x.hazard_id,
      at: x.at,
      actor: x.actor,
      action: x.action,
      note: x.note,
    }));
  }

  assign(
    id: string,
    a: { responsible: string; rectifyBy: number; actor: string; at: number },
  ): Promise<Hazard | null> {
    return tx(this.pool, async (c) => {
      // a new deadline re-arms the overdue notice; the same one keeps it
      const r = await c.query<HazardRow>(
        `UPDATE hazards SET responsible = $1, state = 'rectifying',
           escalated_at = CASE WHEN rectify_by = $2 THEN escalated_at ELSE NULL END, rectify_by = $2
         WHERE id = $3 AND state <> 'closed' RETURNING *`,
        [a.responsible, a.rectifyBy, id],
      );
      if (r.rowCount === 0) return null;
      const note = `${a.responsible}; rectify by ${new Date(a.rectifyBy).toISOString()}`;
      await this.append(c, { hazardId: id, at: a.at, actor: a.actor, action: 'assigned', note });
      return one(r.rows);
    });
  }

  close(id: string, cl: { note: string; actor: string; at: number }): Promise<Hazard | null> {
    return tx(this.pool, async (c) => {
      const r = await c.query<HazardRow>(
        `UPDATE hazards SET state = 'closed', closed_at = $1, closed_by = $2, close_note = $3
         WHERE id = $4 AND state <> 'closed' RETURNING *`,
        [cl.at, cl.actor, cl.note, id],
      );
      if (r.rowCount === 0) return null;
      await this.append(c, { hazardId: id, at: cl.at, actor: cl.actor, action: 'closed', note: cl.note });
      return one(r.rows);
    });
  }

  async overdue(now: number, limit: number): Promise<Hazard[]> {
    const r = await this.pool.query<HazardRow>(
      `SELECT * FROM hazards WHERE state <> 'closed' AND escalated_at IS NULL AND rectify_by <= $1
       ORDER BY rectify_by LIMIT $2`,
      [now, limit],
    );
    return r.rows.map(toHazard);
  }

  markEscalated(id: string, at: number): Promise<Hazard | null> {
    return tx(this.pool, async (c) => {
      const r = await c.query<HazardRow>(
        `UPDATE hazards SET escalated_at = $1
         WHERE id = $2 AND state <> 'closed' AND escalated_at IS NULL AND rectify_by <= $1 RETURNING *`,
        [at, id],
      );
      if (r.rowCount === 0) return null;
      await this.append(c, { hazardId: id, at, actor: 'system:hazards', action: 'overdue', note: null });
      return one(r.rows);
    });
  }

  async watch(w: HazardWatch): Promise<void> {
    await this.pool.query(
      `INSERT INTO hazard_watches (alert_id, site_id, source, kind, title, check_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (alert_id) DO UPDATE SET check_at = LEAST(hazard_watches.check_at, EXCLUDED.check_at)`,
      [w.alertId, w.siteId, w.source, w.kind, w.title, w.checkAt],
    );
  }

  async unwatch(alertId: string): Promise<void> {
    await this.pool.query('DELETE FROM hazard_watches WHERE alert_id = $1', [alertId]);
  }

  async dueWatches(now: number, limit: number): Promise<HazardWatch[]> {
    const r = await this.pool.query<{
      alert_id: string;
      site_id: string;
      source: string;
      kind: HazardKind;
      title: string;
      check_at: number;
    }>('SELECT * FROM hazard_watches WHERE check_at <= $1 ORDER BY check_at LIMIT $2', [now, limit]);
    return r.rows.map((x) => ({
      alertId: x.alert_id,
      siteId: x.site_id,
      source: x.source,
      kind: x.kind,
      title: x.title,
      checkAt: x.check_at,
    }));
  }

  async nextDueAt(): Promise<number | null> {
    const r = await this.pool.query<{ t: number | null }>(
      `SELECT LEAST(
         (SELECT MIN(check_at) FROM hazard_watches),
         (SELECT MIN(rectify_by) FROM hazards
            WHERE state <> 'closed' AND escalated_at IS NULL AND rectify_by IS NOT NULL)) AS t`,
    );
    return r.rows[0]?.t ?? null;
  }

  recordFalseAlarm(
    f: FalseAlarm,
    rule: { threshold: number; windowMs: number; draft: HazardDraft },
  ): Promise<Hazard | null> {
    return tx(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        JSON.stringify(['carewatch:false_alarms', f.siteId, f.source]),
      ]);
      const r = await c.query(
        `INSERT INTO hazard_false_alarms (alert_id, site_id, source, resolved_at, note)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [f.alertId, f.siteId, f.source, f.resolvedAt, f.note],
      );
      if (r.rowCount === 0) return null; // seen before (replayed notice)
      const pending = await c.query<{ alert_id: string }>(
        `SELECT alert_id FROM hazard_false_alarms
         WHERE site_id = $1 AND source = $2 AND hazard_id IS NULL AND resolved_at > $3`,
        [f.siteId, f.source, f.resolvedAt - rule.windowMs],
      );
      const already = await c.query<{ id: string }>(
        `SELECT id FROM hazards WHERE site_id = $1 AND source = $2 AND kind = 'repeated_false_alarms'
           AND state <> 'closed'`,
        [f.siteId, f.source],
      );
      const openId = already.rows[0]?.id;
      // while one is open, further false alarms belong to it
      if (!openId && pending.rows.length < rule.threshold) return null;
      const opened = openId ? null : await this.insert(c, rule.draft);
      const hazardId = openId ?? opened?.id;
      const ids = pending.rows.map((p) => p.alert_id);
      if (hazardId && ids.length > 0) {
        await c.query('UPDATE hazard_false_alarms SET hazard_id = $1 WHERE alert_id = ANY($2::text[])', [
          hazardId,
          ids,
        ]);
      }
      return opened;
    });
  }
}
