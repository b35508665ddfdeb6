import type { Db, Migration } from '../../storage/sqlite/open.js';
import { stmt } from '../../storage/sqlite/statements.js';
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
} from './types.js';

/** Applied with `migrate(db, HAZARD_MIGRATIONS, 'hazard_migrations')` on the central file. */
export const HAZARD_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE hazards (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  source TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('panel_trouble', 'camera_offline', 'coverage_gap', 'repeated_false_alarms', 'other')),
  title TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  alert_id TEXT,
  responsible TEXT,
  rectify_by INTEGER,
  state TEXT NOT NULL CHECK (state IN ('open', 'rectifying', 'closed')),
  closed_at INTEGER,
  closed_by TEXT,
  close_note TEXT,
  escalated_at INTEGER
);
CREATE UNIQUE INDEX hazards_open_key ON hazards(site_id, source, kind) WHERE state != 'closed';
CREATE UNIQUE INDEX hazards_alert ON hazards(alert_id) WHERE alert_id IS NOT NULL;
CREATE INDEX hazards_site ON hazards(site_id, opened_at);
CREATE INDEX hazards_deadline ON hazards(rectify_by) WHERE state != 'closed' AND escalated_at IS NULL;
CREATE TABLE hazard_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hazard_id TEXT NOT NULL REFERENCES hazards(id),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  note TEXT
);
CREATE INDEX hazard_log_hazard ON hazard_log(hazard_id, id);
CREATE TRIGGER hazard_log_append_only_u BEFORE UPDATE ON hazard_log
  BEGIN SELECT RAISE(ABORT, 'hazard_log is append-only'); END;
CREATE TRIGGER hazard_log_append_only_d BEFORE DELETE ON hazard_log
  BEGIN SELECT RAISE(ABORT, 'hazard_log is append-only'); END;
CREATE TABLE hazard_watches (
  alert_id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  check_at INTEGER NOT NULL
);
CREATE INDEX hazard_watches_due ON hazard_watches(check_at);
CREATE TABLE hazard_false_alarms (
  alert_id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  source TEXT NOT NULL,
  resolved_at INTEGER NOT NULL,
  note TEXT NOT NULL,
  hazard_id TEXT
);
CREATE INDEX hazard_false_alarms_source ON hazard_false_alarms(site_id, source, resolved_at);
`,
  },
];

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

const inList = (n: number) => Array.from({ length: n }, () => '?').join(',');

/** The hazard ledger in the central SQLite file (its own migration table). */
export class SqliteHazardRepo implements HazardRepo {
  constructor(private readonly db: Db) {}

  private row(id: string): Hazard | null {
    const r = stmt(this.db, 'SELECT * FROM hazards WHERE id = ?').get(id) as HazardRow | undefined;
    return r ? toHazard(r) : null;
  }

  private append(e: HazardLogEntry): void {
    stmt(this.db, 'INSERT INTO hazard_log (hazard_id, at, actor, action, note) VALUES (?, ?, ?, ?, ?)').run(
      e.hazardId,
      e.at,
      e.actor,
      e.action,
      e.note,
    );
  }

  private insert(d: HazardDraft): Hazard | null {
    const r = stmt(
      this.db,
      `INSERT OR IGNORE INTO hazards (id, site_id, source, kind, title, opened_at, alert_id, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'open')`,
    ).run(d.id, d.siteId, d.source, d.kind, d.title, d.at, d.alertId);
    if (r.changes === 0) return null;
    this.append({ hazardId: d.id, at: d.at, actor: d.actor, action: 'opened', note: d.title });
    return this.row(d.id);
  }

  async open(d: HazardDraft): Promise<Hazard | null> {
    return this.db.transaction(() => this.insert(d))();
  }

  async get(id: string): Promise<Hazard | null> {
    return this.row(id);
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
      where.push(`${col} IN (${inList(values.length)})`);
      args.push(...values);
    }
    args.push(f.limit ?? 1000);
    return (
      stmt(
        this.db,
        `SELECT * FROM hazards ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY opened_at DESC, id DESC LIMIT ?`,
      ).all(...args) as HazardRow[]
    ).map(toHazard);
  }

  async log(id: string): Promise<HazardLogEntry[]> {
    return (
      stmt(this.db, 'SELECT * FROM hazard_log WHERE hazard_id = ? ORDER BY id').all(id) as Array<{
        hazard_id: string;
        at: number;
        actor: string;
        action: HazardLogEntry['action'];
        note: string | null;
      }>
    ).map((r) => ({ hazardId: r.hazard_id, at: r.at, actor: r.actor, action: r.action, note: r.note }));
  }

  async assign(
    id: string,
    a: { responsible: string; rectifyBy: number; actor: string; at: number },
  ): Promise<Hazard | null> {
    return this.db.transaction((): Hazard | null => {
      const r = stmt(
        this.db,
        `UPDATE hazards SET responsible = ?, state = 'rectifying',
             escalated_at = CASE WHEN rectify_by = ? THEN escalated_at ELSE NULL END, rectify_by = ?
           WHERE id = ? AND state != 'closed'`,
      ).run(a.responsible, a.rectifyBy, a.rectifyBy, id);
      if (r.changes === 0) return null;
      const note = `${a.responsible}; rectify by ${new Date(a.rectifyBy).toISOString()}`;
      this.append({ hazardId: id, at: a.at, actor: a.actor, action: 'assigned', note });
      return this.row(id);
    })();
  }

  async close(id: string, c: { note: string; actor: string; at: number }): Promise<Hazard | null> {
    return this.db.transaction((): Hazard | null => {
      const r = stmt(
        this.db,
        `UPDATE hazards SET state = 'closed', closed_at = ?, closed_by = ?, close_note = ?
           WHERE id = ? AND state != 'closed'`,
      ).run(c.at, c.actor, c.note, id);
      if (r.changes === 0) return null;
      this.append({ hazardId: id, at: c.at, actor: c.actor, action: 'closed', note: c.note });
      return this.row(id);
    })();
  }

  async overdue(now: number, limit: number): Promise<Hazard[]> {
    return (
      stmt(
        this.db,
        `SELECT * FROM hazards WHERE state != 'closed' AND escalated_at IS NULL AND rectify_by <= ?
           ORDER BY rectify_by LIMIT ?`,
      ).all(now, limit) as HazardRow[]
    ).map(toHazard);
  }

  async markEscalated(id: string, at: number): Promise<Hazard | null> {
    return this.db.transaction((): Hazard | null => {
      const r = stmt(
        this.db,
        `UPDATE hazards SET escalated_at = ?
           WHERE id = ? AND state != 'closed' AND escalated_at IS NULL AND rectify_by <= ?`,
      ).run(at, id, at);
      if (r.changes === 0) return null;
      this.append({ hazardId: id, at, actor: 'system:hazards', action: 'overdue', note: null });
      return this.row(id);
    })();
  }

  async watch(w: HazardWatch): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO hazard_watches (alert_id, site_id, source, kind, title, check_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(alert_id) DO UPDATE SET check_at = MIN(check_at, excluded.check_at)`,
    ).run(w.alertId, w.siteId, w.source, w.kind, w.title, w.checkAt);
  }

  async unwatch(alertId: string): Promise<void> {
    stmt(this.db, 'DELETE FROM hazard_watches WHERE alert_id = ?').run(alertId);
  }

  async dueWatches(now: number, limit: number): Promise<HazardWatch[]> {
    return (
      stmt(this.db, 'SELECT * FROM hazard_watches WHERE check_at <= ? ORDER BY check_at LIMIT ?').all(
        now,
        limit,
      ) as Array<{
        alert_id: string;
        site_id: string;
        source: string;
        kind: HazardKind;
        title: string;
        check_at: number;
      }>
    ).map((r) => ({
      alertId: r.alert_id,
      siteId: r.site_id,
      source: r.source,
      kind: r.kind,
      title: r.title,
      checkAt: r.check_at,
    }));
  }

  async nextDueAt(): Promise<number | null> {
    const r = stmt(
      this.db,
      `SELECT MIN(t) AS t FROM (
           SELECT MIN(check_at) AS t FROM hazard_watches
           UNION ALL
           SELECT MIN(rectify_by) FROM hazards
             WHERE state != 'closed' AND escalated_at IS NULL AND rectify_by IS NOT NULL)`,
    ).get() as { t: number | null };
    return r.t;
  }

  async recordFalseAlarm(
    f: FalseAlarm,
    rule: { threshold: number; windowMs: number; draft: HazardDraft },
  ): Promise<Hazard | null> {
    return this.db.transaction((): Hazard | null => {
      const r = stmt(
        this.db,
        `INSERT OR IGNORE INTO hazard_false_alarms (alert_id, site_id, source, resolved_at, note)
           VALUES (?, ?, ?, ?, ?)`,
      ).run(f.alertId, f.siteId, f.source, f.resolvedAt, f.note);
      if (r.changes === 0) return null; // seen before (replayed notice)
      const pending = stmt(
        this.db,
        `SELECT alert_id FROM hazard_false_alarms
           WHERE site_id = ? AND source = ? AND hazard_id IS NULL AND resolved_at > ?`,
      ).all(f.siteId, f.source, f.resolvedAt - rule.windowMs) as Array<{ alert_id: string }>;
      const already = stmt(
        this.db,
        `SELECT id FROM hazards WHERE site_id = ? AND source = ? AND kind = 'repeated_false_alarms'
             AND state != 'closed'`,
      ).get(f.siteId, f.source) as { id: string } | undefined;
      // while one is open, further false alarms belong to it
      if (!already && pending.length < rule.threshold) return null;
      const opened = already ? null : this.insert(rule.draft);
      const hazardId = already?.id ?? opened?.id;
      const ids = pending.map((p) => p.alert_id);
      if (hazardId && ids.length > 0) {
        stmt(
          this.db,
          `UPDATE hazard_false_alarms SET hazard_id = ? WHERE alert_id IN (${inList(ids.length)})`,
        ).run(hazardId, ...ids);
      }
      return opened;
    })();
  }
}
