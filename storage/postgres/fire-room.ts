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
import { type Client, type Pool, tx } from './db.js';

export class PgFireRoomRepo implements FireRoomRepo {
  constructor(private readonly pool: Pool) {}

  async putOperator(o: Operator): Promise<void> {
    await this.pool.query(
      `INSERT INTO operators (id, site_id, name, certificate_no, certificate_expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (site_id, id) DO UPDATE SET name = EXCLUDED.name, certificate_no = EXCLUDED.certificate_no,
         certificate_expires_at = EXCLUDED.certificate_expires_at`,
      [o.id, o.siteId, o.name, o.certificateNo, o.certificateExpiresAt, Date.now()],
    );
  }

  async operators(siteId: string): Promise<Operator[]> {
    const r = await this.pool.query<{
      id: string;
      site_id: string;
      name: string;
      certificate_no: string;
      certificate_expires_at: number;
    }>('SELECT * FROM operators WHERE site_id = $1 ORDER BY id', [siteId]);
    return r.rows.map((x) => ({
      id: x.id,
      siteId: x.site_id,
      name: x.name,
      certificateNo: x.certificate_no,
      certificateExpiresAt: x.certificate_expires_at,
    }));
  }

  async sitesWithRoster(): Promise<string[]> {
    const r = await this.pool.query<{ site_id: string }>(
      'SELECT DISTINCT site_id FROM operators ORDER BY site_id',
    );
    return r.rows.map((x) => x.site_id);
  }

  async recordAttendance(e: AttendanceEntry, eventId: string | null): Promise<boolean> {
    return tx(this.pool, (c) => this.applyAttendance(c, e, eventId));
  }

  async recordAttendanceMany(
    items: Array<{ entry: AttendanceEntry; eventId: string | null }>,
  ): Promise<boolean[]> {
    return tx(this.pool, async (c) => {
      const out: boolean[] = [];
      for (const i of items) out.push(await this.applyAttendance(c, i.entry, i.eventId));
      return out;
    });
  }

  private async applyAttendance(c: Client, e: AttendanceEntry, eventId: string | null): Promise<boolean> {
    {
      // the unique event id makes a replayed attendance event a no-op
      const r = await c.query(
        `INSERT INTO attendance_log (site_id, operator_id, action, count, source, at, event_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [e.siteId, e.operatorId, e.action, e.count, e.source, e.at, eventId],
      );
      if (r.rowCount === 0) return false;
      if (e.action === 'check_in' && e.operatorId) {
        await c.query(
          `INSERT INTO fire_room_presence (site_id, operator_id, since) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING`,
          [e.siteId, e.operatorId, e.at],
        );
      } else if (e.action === 'check_out' && e.operatorId) {
        await c.query('DELETE FROM fire_room_presence WHERE site_id = $1 AND operator_id = $2', [
          e.siteId,
          e.operatorId,
        ]);
      } else if (e.action === 'occupancy' && e.count !== null) {
        await c.query(
          `INSERT INTO fire_room_occupancy (site_id, count, at) VALUES ($1, $2, $3)
           ON CONFLICT (site_id) DO UPDATE SET count = EXCLUDED.count, at = EXCLUDED.at`,
          [e.siteId, e.count, e.at],
        );
      }
      return true;
    }
  }

  async present(siteId: string): Promise<PresentOperator[]> {
    const r = await this.pool.query<{ operator_id: string; since: number }>(
      'SELECT operator_id, since FROM fire_room_presence WHERE site_id = $1 ORDER BY since, operator_id',
      [siteId],
    );
    return r.rows.map((x) => ({ operatorId: x.operator_id, since: x.since }));
  }

  async occupancy(siteId: string): Promise<{ count: number; at: number } | null> {
    const r = await this.pool.query<{ count: number; at: number }>(
      'SELECT count, at FROM fire_room_occupancy WHERE site_id = $1',
      [siteId],
    );
    return r.rows[0] ?? null;
  }

  async attendance(siteId: string, since: number, limit: number): Promise<AttendanceEntry[]> {
    const r = await this.pool.query<{
      site_id: string;
      operator_id: string | null;
      action: AttendanceEntry['action'];
      count: number | null;
      source: string;
      at: number;
    }>(
      `SELECT site_id, operator_id, action, count, source, at FROM attendance_log
       WHERE site_id = $1 AND at >= $2 ORDER BY at DESC, id DESC LIMIT $3`,
      [siteId, since, limit],
    );
    return r.rows.map((x) => ({
      siteId: x.site_id,
      operatorId: x.operator_id,
      action: x.action,
      count: x.count,
      source: x.source,
      at: x.at,
    }));
  }

  async createPostCheck(p: PostCheck): Promise<void> {
    await this.pool.query(
      `INSERT INTO post_checks (id, site_id, issued_at, issued_by, deadline_at, state)
       VALUES ($1, $2, $3, $4, $5, 'pending')`,
      [p.id, p.siteId, p.issuedAt, p.issuedBy, p.deadlineAt],
    );
  }

  async answerPostCheck(id: string, by: string, via: string, at: number): Promise<PostCheck | null> {
    const r = await this.pool.query<PostCheckRow>(
      `UPDATE post_checks SET state = 'answered', answered_at = $1, answered_by = $2, via = $3
       WHERE id = $4 AND state = 'pending' AND deadline_at >= $1 RETURNING *`,
      [at, by, via, id],
    );
    return r.rows[0] ? toPostCheck(r.rows[0]) : null;
  }

  async missDue(now: number): Promise<PostCheck[]> {
    // one compare-and-set statement: of several instances, each missed check is returned to exactly one
    const r = await this.pool.query<PostCheckRow>(
      `UPDATE post_checks SET state = 'missed' WHERE state = 'pending' AND deadline_at < $1 RETURNING *`,
      [now],
    );
    return r.rows.map(toPostCheck).sort((a, b) => a.deadlineAt - b.deadlineAt || a.id.localeCompare(b.id));
  }

  async postChecks(siteId: string, limit: number): Promise<PostCheck[]> {
    const r = await this.pool.query<PostCheckRow>(
      'SELECT * FROM post_checks WHERE site_id = $1 ORDER BY issued_at DESC, id DESC LIMIT $2',
      [siteId, limit],
    );
    return r.rows.map(toPostCheck);
  }

  async getPostCheck(id: string): Promise<PostCheck | null> {
    const r = await this.pool.query<PostCheckRow>('SELECT * FROM post_checks WHERE id = $1', [id]);
    return r.rows[0] ? toPostCheck(r.rows[0]) : null;
  }

  async addDutyLog(e: DutyLogEntry): Promise<void> {
    await this.pool.query(
      'INSERT INTO duty_log (site_id, at, author, kind, body) VALUES ($1, $2, $3, $4, $5)',
      [e.siteId, e.at, e.author, e.kind, JSON.stringify(e.body)],
    );
  }

  async dutyLog(siteId: string, limit: number): Promise<DutyLogEntry[]> {
    const r = await this.pool.query<{
      site_id: string;
      at: number;
      author: string;
      kind: DutyLogEntry['kind'];
      body: string;
    }>('SELECT * FROM duty_log WHERE site_id = $1 ORDER BY at DESC, id DESC LIMIT $2', [siteId, limit]);
    return r.rows.map((x) => ({
      siteId: x.site_id,
      at: x.at,
      author: x.author,
      kind: x.kind,
      body: JSON.parse(x.body),
    }));
  }

  async addHandover(h: Handover): Promise<void> {
    await this.pool.query(
      `INSERT INTO handovers (site_id, at, from_operators, to_operators, note, author)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [h.siteId, h.at, JSON.stringify(h.fromOperators), JSON.stringify(h.toOperators), h.note, h.author],
    );
  }

  async handovers(siteId: string, limit: number): Promise<Handover[]> {
    const r = await this.pool.query<{
      site_id: string;
      at: number;
      from_operators: string;
      to_operators: string;
      note: string;
      author: string;
    }>('SELECT * FROM handovers WHERE site_id = $1 ORDER BY at DESC, id DESC LIMIT $2', [siteId, limit]);
    return r.rows.map((x) => ({
      siteId: x.site_id,
      at: x.at,
      fromOperators: JSON.parse(x.from_operators),
      toOperators: JSON.parse(x.to_operators),
      note: x.note,
      author: x.author,
    }));
  }

  async settings(siteId: string): Promise<FireRoomSettings> {
    const r = await this.pool.query<{
      min_operators: number;
      max_shift_h: number;
      random_post_checks_per_day: number;
    }>('SELECT * FROM fire_room_settings WHERE site_id = $1', [siteId]);
    const x = r.rows[0];
    return x
      ? {
          minOperators: x.min_operators,
          maxShiftH: x.max_shift_h,
          randomPostChecksPerDay: x.random_post_checks_per_day,
        }
      : { ...DEFAULT_SETTINGS };
  }

  async putSettings(siteId: string, s: FireRoomSettings): Promise<void> {
    await this.pool.query(
      `INSERT INTO fire_room_settings (site_id, min_operators, max_shift_h, random_post_checks_per_day)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (site_id) DO UPDATE SET min_operators = EXCLUDED.min_operators,
         max_shift_h = EXCLUDED.max_shift_h, random_post_checks_per_day = EXCLUDED.random_post_checks_per_day`,
      [siteId, s.minOperators, s.maxShiftH, s.randomPostChecksPerDay],
    );
  }
}
