import type {
  Accident,
  AccidentFilter,
  AccidentRepo,
  AccidentReport,
  AccidentState,
  ReportChannel,
} from '../../alerts/accidents/types.js';
import { CarewatchError } from '../../lib/errors.js';
import { type Pool, type Queryable, sqlState, tx } from './db.js';

interface AccidentRow {
  id: string;
  site_id: string;
  alert_id: string | null;
  title: string;
  classified_at: number;
  classified_by: string;
  deadline_at: number;
  state: AccidentState;
  reported_at: number | null;
  reported_late: boolean;
  warned_at: number | null;
  overdue_at: number | null;
}

interface ReportRow {
  accident_id: string;
  at: number;
  by: string;
  to_whom: string;
  channel: ReportChannel;
  note: string | null;
  late: boolean;
}

const toAccident = (r: AccidentRow): Accident => ({
  id: r.id,
  siteId: r.site_id,
  alertId: r.alert_id,
  title: r.title,
  classifiedAt: r.classified_at,
  classifiedBy: r.classified_by,
  deadlineAt: r.deadline_at,
  state: r.state,
  reportedAt: r.reported_at,
  reportedLate: r.reported_late,
  warnedAt: r.warned_at,
  overdueAt: r.overdue_at,
});

const toReport = (r: ReportRow): AccidentReport => ({
  accidentId: r.accident_id,
  at: r.at,
  by: r.by,
  toWhom: r.to_whom,
  channel: r.channel,
  note: r.note,
  late: r.late,
});

/**
 * The accident register on PostgreSQL, shared by every central instance.
 * The notices rest on conditional UPDATEs (`warned_at IS NULL`,
 * `state = 'pending_report'`): when two instances race, the second one waits
 * for the first one's row lock, re-checks the condition and changes nothing.
 */
export class PgAccidentRepo implements AccidentRepo {
  constructor(private readonly pool: Pool) {}

  async insert(a: Accident): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO accidents (id, site_id, alert_id, title, classified_at, classified_by, deadline_at, state,
           reported_at, reported_late, warned_at, overdue_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          a.id,
          a.siteId,
          a.alertId,
          a.title,
          a.classifiedAt,
          a.classifiedBy,
          a.deadlineAt,
          a.state,
          a.reportedAt,
          a.reportedLate,
          a.warnedAt,
          a.overdueAt,
        ],
      );
    } catch (err) {
      const constraint = (err as { constraint?: string }).constraint;
      if (sqlState(err) === '23505' && constraint === 'accidents_alert' && a.alertId !== null) {
        throw new CarewatchError(
          'ACCIDENT_EXISTS',
          `alert ${a.alertId} is already classified as an accident`,
          { alertId: a.alertId },
        );
      }
      throw err;
    }
  }

  private async row(q: Queryable, id: string): Promise<Accident | null> {
    const r = await q.query<AccidentRow>('SELECT * FROM accidents WHERE id = $1', [id]);
    return r.rows[0] ? toAccident(r.rows[0]) : null;
  }

  get(id: string): Promise<Accident | null> {
    return this.row(this.pool, id);
  }

  async byAlert(alertId: string): Promise<Accident | null> {
    const r = await this.pool.query<AccidentRow>('SELECT * FROM accidents WHERE alert_id = $1', [alertId]);
    return r.rows[0] ? toAccident(r.rows[0]) : null;
  }

  async list(f: AccidentFilter): Promise<Accident[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (f.siteIds) {
      if (f.siteIds.length === 0) return [];
      where.push(`site_id = ANY(${arg(f.siteIds)}::text[])`);
    }
    if (f.states) {
      if (f.states.length === 0) return [];
      where.push(`state = ANY(${arg(f.states)}::text[])`);
    }
    if (f.since !== undefined) where.push(`classified_at >= ${arg(f.since)}`);
    if (f.until !== undefined) where.push(`classified_at < ${arg(f.until)}`);
    const r = await this.pool.query<AccidentRow>(
      `SELECT * FROM accidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY classified_at DESC, id DESC LIMIT ${arg(f.limit ?? 500)}`,
      args,
    );
    return r.rows.map(toAccident);
  }

  addReport(r: AccidentReport): Promise<Accident | null> {
    return tx(this.pool, async (c) => {
      // the row lock orders concurrent first reports: one of them moves the state
      const locked = await c.query('SELECT 1 FROM accidents WHERE id = $1 FOR UPDATE', [r.accidentId]);
      if (locked.rowCount === 0) return null;
      await c.query(
        `INSERT INTO accident_reports (accident_id, at, "by", to_whom, channel, note, late)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [r.accidentId, r.at, r.by, r.toWhom, r.channel, r.note, r.late],
      );
      await c.query(
        `UPDATE accidents SET state = 'reported', reported_at = $1, reported_late = $2
         WHERE id = $3 AND state IN ('pending_report', 'overdue')`,
        [r.at, r.late, r.accidentId],
      );
      return this.row(c, r.accidentId);
    });
  }

  async reports(accidentId: string): Promise<AccidentReport[]> {
    const r = await this.pool.query<ReportRow>(
      'SELECT * FROM accident_reports WHERE accident_id = $1 ORDER BY id',
      [accidentId],
    );
    return r.rows.map(toReport);
  }

  async due(now: number, warnBeforeMs: number, limit: number): Promise<Accident[]> {
    const r = await this.pool.query<AccidentRow>(
      `SELECT * FROM accidents WHERE state = 'pending_report'
         AND (deadline_at <= $1 OR (warned_at IS NULL AND deadline_at - $2 <= $1))
       ORDER BY deadline_at LIMIT $3`,
      [now, warnBeforeMs, limit],
    );
    return r.rows.map(toAccident);
  }

  async nextDueAt(warnBeforeMs: number): Promise<number | null> {
    const r = await this.pool.query<{ t: number | null }>(
      `SELECT MIN(CASE WHEN warned_at IS NULL THEN deadline_at - $1 ELSE deadline_at END)::bigint AS t
       FROM accidents WHERE state = 'pending_report'`,
      [warnBeforeMs],
    );
    return r.rows[0]?.t ?? null;
  }

  markWarned(id: string, at: number): Promise<Accident | null> {
    return this.cas(
      `UPDATE accidents SET warned_at = $1
       WHERE id = $2 AND state = 'pending_report' AND warned_at IS NULL RETURNING *`,
      at,
      id,
    );
  }

  markOverdue(id: string, at: number): Promise<Accident | null> {
    return this.cas(
      `UPDATE accidents SET state = 'overdue', overdue_at = $1
       WHERE id = $2 AND state = 'pending_report' RETURNING *`,
      at,
      id,
    );
  }

  /** One statement: the update and the row it returns are atomic without a transaction. */
  private async cas(sql: string, at: number, id: string): Promise<Accident | null> {
    const r = await this.pool.query<AccidentRow>(sql, [at, id]);
    return r.rows[0] ? toAccident(r.rows[0]) : null;
  }
}
