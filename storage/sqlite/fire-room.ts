import {
  type AttendanceEntry,
  DEFAULT_SETTINGS,
  type DutyLogEntry,
  type FireRoomRepo,
  type FireRoomSettings,
  type Handover,
  type Operator,
  type PostCheck,
  type PresentOperator,
} from '../../alerts/fire-room/types.js';
import { type PostCheckRow, toPostCheck } from '../rows.js';
import type { Db } from './open.js';
import { stmt } from './statements.js';
import { durableTransaction } from './wal-sync.js';

export class SqliteFireRoomRepo implements FireRoomRepo {
  constructor(private readonly db: Db) {}

  async putOperator(o: Operator): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO operators (id, site_id, name, certificate_no, certificate_expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(site_id, id) DO UPDATE SET name = excluded.name, certificate_no = excluded.certificate_no,
           certificate_expires_at = excluded.certificate_expires_at`,
    ).run(o.id, o.siteId, o.name, o.certificateNo, o.certificateExpiresAt, Date.now());
  }

  async operators(siteId: string): Promise<Operator[]> {
    const rows = stmt(this.db, 'SELECT * FROM operators WHERE site_id = ? ORDER BY id').all(siteId) as Array<{
      id: string;
      site_id: string;
      name: string;
      certificate_no: string;
      certificate_expires_at: number;
    }>;
    return rows.map((r) => ({
      id: r.id,
      siteId: r.site_id,
      name: r.name,
      certificateNo: r.certificate_no,
      certificateExpiresAt: r.certificate_expires_at,
    }));
  }

  async sitesWithRoster(): Promise<string[]> {
    return (stmt(this.db, 'SELECT DISTINCT site_id FROM operators').all() as Array<{ site_id: string }>).map(
      (r) => r.site_id,
    );
  }

  async recordAttendance(e: AttendanceEntry, eventId: string | null): Promise<boolean> {
    return this.db.transaction(() => this.applyAttendance(e, eventId))();
  }

  async recordAttendanceMany(
    items: Array<{ entry: AttendanceEntry; eventId: string | null }>,
  ): Promise<boolean[]> {
    return durableTransaction(this.db, () => items.map((i) => this.applyAttendance(i.entry, i.eventId)));
  }

  private applyAttendance(e: AttendanceEntry, eventId: string | null): boolean {
    {
      const r = stmt(
        this.db,
        `INSERT OR IGNORE INTO attendance_log (site_id, operator_id, action, count, source, at, event_id)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(e.siteId, e.operatorId, e.action, e.count, e.source, e.at, eventId);
      if (r.changes === 0) return false;
      if (e.action === 'check_in' && e.operatorId) {
        stmt(
          this.db,
          'INSERT OR IGNORE INTO fire_room_presence (site_id, operator_id, since) VALUES (?, ?, ?)',
        ).run(e.siteId, e.operatorId, e.at);
      } else if (e.action === 'check_out' && e.operatorId) {
        stmt(this.db, 'DELETE FROM fire_room_presence WHERE site_id = ? AND operator_id = ?').run(
          e.siteId,
          e.operatorId,
        );
      } else if (e.action === 'occupancy' && e.count !== null) {
        stmt(
          this.db,
          `INSERT INTO fire_room_occupancy (site_id, count, at) VALUES (?, ?, ?)
             ON CONFLICT(site_id) DO UPDATE SET count = excluded.count, at = excluded.at`,
        ).run(e.siteId, e.count, e.at);
      }
      return true;
    }
  }

  async present(siteId: string): Promise<PresentOperator[]> {
    return (
      stmt(this.db, 'SELECT operator_id, since FROM fire_room_presence WHERE site_id = ? ORDER BY since').all(
        siteId,
      ) as Array<{
        operator_id: string;
        since: number;
      }>
    ).map((r) => ({ operatorId: r.operator_id, since: r.since }));
  }

  async occupancy(siteId: string): Promise<{ count: number; at: number } | null> {
    const r = stmt(this.db, 'SELECT count, at FROM fire_room_occupancy WHERE site_id = ?').get(siteId) as
      | { count: number; at: number }
      | undefined;
    return r ?? null;
  }

  async attendance(siteId: string, since: number, limit: number): Promise<AttendanceEntry[]> {
    const rows = stmt(
      this.db,
      'SELECT * FROM attendance_log WHERE site_id = ? AND at >= ? ORDER BY at DESC, id DESC LIMIT ?',
    ).all(siteId, since, limit) as Array<{
      site_id: string;
      operator_id: string | null;
      action: AttendanceEntry['action'];
      count: number | null;
      source: string;
      at: number;
    }>;
    return rows.map((r) => ({
      siteId: r.site_id,
      operatorId: r.operator_id,
      action: r.action,
      count: r.count,
      source: r.source,
      at: r.at,
    }));
  }

  async createPostCheck(p: PostCheck): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO post_checks (id, site_id, issued_at, issued_by, deadline_at, state) VALUES (?, ?, ?, ?, ?, 'pending')`,
    ).run(p.id, p.siteId, p.issuedAt, p.issuedBy, p.deadlineAt);
  }

  async answerPostCheck(id: string, by: string, via: string, at: number): Promise<PostCheck | null> {
    const r = stmt(
      this.db,
      `UPDATE post_checks SET state = 'answered', answered_at = ?, answered_by = ?, via = ?
         WHERE id = ? AND state = 'pending' AND deadline_at >= ?`,
    ).run(at, by, via, id, at);
    return r.changes === 1 ? this.getPostCheck(id) : null;
  }

  async missDue(now: number): Promise<PostCheck[]> {
    return this.db.transaction((): PostCheck[] => {
      const due = stmt(this.db, `SELECT * FROM post_checks WHERE state = 'pending' AND deadline_at < ?`).all(
        now,
      ) as PostCheckRow[];
      const mark = stmt(
        this.db,
        `UPDATE post_checks SET state = 'missed' WHERE id = ? AND state = 'pending'`,
      );
      return due
        .filter((r) => mark.run(r.id).changes === 1)
        .map((r) => ({ ...toPostCheck(r), state: 'missed' }));
    })();
  }

  async postChecks(siteId: string, limit: number): Promise<PostCheck[]> {
    return (
      stmt(this.db, 'SELECT * FROM post_checks WHERE site_id = ? ORDER BY issued_at DESC LIMIT ?').all(
        siteId,
        limit,
      ) as PostCheckRow[]
    ).map(toPostCheck);
  }

  async getPostCheck(id: string): Promise<PostCheck | null> {
    const r = stmt(this.db, 'SELECT * FROM post_checks WHERE id = ?').get(id) as PostCheckRow | undefined;
    return r ? toPostCheck(r) : null;
  }

  async addDutyLog(e: DutyLogEntry): Promise<void> {
    stmt(this.db, 'INSERT INTO duty_log (site_id, at, author, kind, body) VALUES (?, ?, ?, ?, ?)').run(
      e.siteId,
      e.at,
      e.author,
      e.kind,
      JSON.stringify(e.body),
    );
  }

  async dutyLog(siteId: string, limit: number): Promise<DutyLogEntry[]> {
    const rows = stmt(
      this.db,
      'SELECT * FROM duty_log WHERE site_id = ? ORDER BY at DESC, id DESC LIMIT ?',
    ).all(siteId, limit) as Array<{
      site_id: string;
      at: number;
      author: string;
      kind: DutyLogEntry['kind'];
      body: string;
    }>;
    return rows.map((r) => ({
      siteId: r.site_id,
      at: r.at,
      author: r.author,
      kind: r.kind,
      body: JSON.parse(r.body),
    }));
  }

  async addHandover(h: Handover): Promise<void> {
    stmt(
      this.db,
      'INSERT INTO handovers (site_id, at, from_operators, to_operators, note, author) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(h.siteId, h.at, JSON.stringify(h.fromOperators), JSON.stringify(h.toOperators), h.note, h.author);
  }

  async handovers(siteId: string, limit: number): Promise<Handover[]> {
    const rows = stmt(
      this.db,
      'SELECT * FROM handovers WHERE site_id = ? ORDER BY at DESC, id DESC LIMIT ?',
    ).all(siteId, limit) as Array<{
      site_id: string;
      at: number;
      from_operators: string;
      to_operators: string;
      note: string;
      author: string;
    }>;
    return rows.map((r) => ({
      siteId: r.site_id,
      at: r.at,
      fromOperators: JSON.parse(r.from_operators),
      toOperators: JSON.parse(r.to_operators),
      note: r.note,
      author: r.author,
    }));
  }

  async settings(siteId: string): Promise<FireRoomSettings> {
    const r = stmt(this.db, 'SELECT * FROM fire_room_settings WHERE site_id = ?').get(siteId) as
      | { min_operators: number; max_shift_h: number; random_post_checks_per_day: number }
      | undefined;
    return r
      ? {
          minOperators: r.min_operators,
          maxShiftH: r.max_shift_h,
          randomPostChecksPerDay: r.random_post_checks_per_day,
        }
      : { ...DEFAULT_SETTINGS };
  }

  async putSettings(siteId: string, s: FireRoomSettings): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO fire_room_settings (site_id, min_operators, max_shift_h, random_post_checks_per_day) VALUES (?, ?, ?, ?)
         ON CONFLICT(site_id) DO UPDATE SET min_operators = excluded.min_operators, max_shift_h = excluded.max_shift_h,
           random_post_checks_per_day = excluded.random_post_checks_per_day`,
    ).run(siteId, s.minOperators, s.maxShiftH, s.randomPostChecksPerDay);
  }
}
