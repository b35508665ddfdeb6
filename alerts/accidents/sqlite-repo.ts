import { CarewatchError } from '../../lib/errors.js';
import type { Db, Migration } from '../../storage/sqlite/open.js';
import { stmt } from '../../storage/sqlite/statements.js';
import type {
  Accident,
  AccidentFilter,
  AccidentRepo,
  AccidentReport,
  AccidentState,
  ReportChannel,
} from './types.js';

/** Applied with `migrate(db, ACCIDENT_MIGRATIONS, 'accident_migrations')` on the central file. */
export const ACCIDENT_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE accidents (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  alert_id TEXT,
  title TEXT NOT NULL,
  classified_at INTEGER NOT NULL,
  classified_by TEXT NOT NULL,
  deadline_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending_report', 'reported', 'overdue')),
  reported_at INTEGER,
  reported_late INTEGER NOT NULL DEFAULT 0,
  warned_at INTEGER,
  overdue_at INTEGER
);
CREATE UNIQUE INDEX accidents_alert ON accidents(alert_id) WHERE alert_id IS NOT NULL;
CREATE INDEX accidents_site ON accidents(site_id, classified_at);
CREATE INDEX accidents_pending ON accidents(deadline_at) WHERE state = 'pending_report';
CREATE TABLE accident_reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  accident_id TEXT NOT NULL REFERENCES accidents(id),
  at INTEGER NOT NULL,
  by TEXT NOT NULL,
  to_whom TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('phone', 'online', 'written')),
  note TEXT,
  late INTEGER NOT NULL
);
CREATE INDEX accident_reports_accident ON accident_reports(accident_id, id);
CREATE TRIGGER accident_reports_append_only_u BEFORE UPDATE ON accident_reports
  BEGIN SELECT RAISE(ABORT, 'accident_reports is append-only'); END;
CREATE TRIGGER accident_reports_append_only_d BEFORE DELETE ON accident_reports
  BEGIN SELECT RAISE(ABORT, 'accident_reports is append-only'); END;
`,
  },
];

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
  reported_late: number;
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
  late: number;
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
  reportedLate: r.reported_late === 1,
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
  late: r.late === 1,
});

/** Accidents in the central SQLite file (its own migration table). */
export class SqliteAccidentRepo implements AccidentRepo {
  constructor(private readonly db: Db) {}

  async insert(a: Accident): Promise<void> {
    try {
      stmt(
        this.db,
        `INSERT INTO accidents (id, site_id, alert_id, title, classified_at, classified_by, deadline_at, state,
             reported_at, reported_late, warned_at, overdue_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        a.id,
        a.siteId,
        a.alertId,
        a.title,
        a.classifiedAt,
        a.classifiedBy,
        a.deadlineAt,
        a.state,
        a.reportedAt,
        a.reportedLate ? 1 : 0,
        a.warnedAt,
        a.overdueAt,
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && a.alertId !== null) {
        throw new CarewatchError(
          'ACCIDENT_EXISTS',
          `alert ${a.alertId} is already classified as an accident`,
          {
            alertId: a.alertId,
          },
        );
      }
      throw err;
    }
  }

  async get(id: string): Promise<Accident | null> {
    const r = stmt(this.db, 'SELECT * FROM accidents WHERE id = ?').get(id) as AccidentRow | undefined;
    return r ? toAccident(r) : null;
  }

  async byAlert(alertId: string): Promise<Accident | null> {
    const r = stmt(this.db, 'SELECT * FROM accidents WHERE alert_id = ?').get(alertId) as
      | AccidentRow
      | undefined;
    return r ? toAccident(r) : null;
  }

  async list(f: AccidentFilter): Promise<Accident[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.siteIds) {
      if (f.siteIds.length === 0) return [];
      where.push(`site_id IN (${f.siteIds.map(() => '?').join(',')})`);
      args.push(...f.siteIds);
    }
    if (f.states) {
      if (f.states.length === 0) return [];
      where.push(`state IN (${f.states.map(() => '?').join(',')})`);
      args.push(...f.states);
    }
    if (f.since !== undefined) {
      where.push('classified_at >= ?');
      args.push(f.since);
    }
    if (f.until !== undefined) {
      where.push('classified_at < ?');
      args.push(f.until);
    }
    const sql = `SELECT * FROM accidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY classified_at DESC, id DESC LIMIT ?`;
    args.push(f.limit ?? 500);
    return (stmt(this.db, sql).all(...args) as AccidentRow[]).map(toAccident);
  }

  async addReport(r: AccidentReport): Promise<Accident | null> {
    return this.db.transaction((): Accident | null => {
      const exists = stmt(this.db, 'SELECT 1 FROM accidents WHERE id = ?').get(r.accidentId);
      if (!exists) return null;
      stmt(
        this.db,
        `INSERT INTO accident_reports (accident_id, at, by, to_whom, channel, note, late)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(r.accidentId, r.at, r.by, r.toWhom, r.channel, r.note, r.late ? 1 : 0);
      stmt(
        this.db,
        `UPDATE accidents SET state = 'reported', reported_at = ?, reported_late = ?
           WHERE id = ? AND state IN ('pending_report', 'overdue')`,
      ).run(r.at, r.late ? 1 : 0, r.accidentId);
      return toAccident(
        stmt(this.db, 'SELECT * FROM accidents WHERE id = ?').get(r.accidentId) as AccidentRow,
      );
    })();
  }

  async reports(accidentId: string): Promise<AccidentReport[]> {
    return (
      stmt(this.db, 'SELECT * FROM accident_reports WHERE accident_id = ? ORDER BY id').all(
        accidentId,
      ) as ReportRow[]
    ).map(toReport);
  }

  async due(now: number, warnBeforeMs: number, limit: number): Promise<Accident[]> {
    return (
      stmt(
        this.db,
        `SELECT * FROM accidents WHERE state = 'pending_report'
             AND (deadline_at <= ? OR (warned_at IS NULL AND deadline_at - ? <= ?))
           ORDER BY deadline_at LIMIT ?`,
      ).all(now, warnBeforeMs, now, limit) as AccidentRow[]
    ).map(toAccident);
  }

  async nextDueAt(warnBeforeMs: number): Promise<number | null> {
    const r = stmt(
      this.db,
      `SELECT MIN(CASE WHEN warned_at IS NULL THEN deadline_at - ? ELSE deadline_at END) AS t
         FROM accidents WHERE state = 'pending_report'`,
    ).get(warnBeforeMs) as { t: number | null };
    return r.t;
  }

  async markWarned(id: string, at: number): Promise<Accident | null> {
    return this.cas(
      `UPDATE accidents SET warned_at = ? WHERE id = ? AND state = 'pending_report' AND warned_at IS NULL`,
      at,
      id,
    );
  }

  async markOverdue(id: string, at: number): Promise<Accident | null> {
    return this.cas(
      `UPDATE accidents SET state = 'overdue', overdue_at = ? WHERE id = ? AND state = 'pending_report'`,
      at,
      id,
    );
  }

  private cas(sql: string, at: number, id: string): Accident | null {
    return this.db.transaction((): Accident | null => {
      if (stmt(this.db, sql).run(at, id).changes === 0) return null;
      return toAccident(stmt(this.db, 'SELECT * FROM accidents WHERE id = ?').get(id) as AccidentRow);
    })();
  }
}
