import type { Silence, SilenceRepo } from '../types.js';
import type { Db } from './open.js';

interface Row {
  id: string;
  site_id: string;
  type: string | null;
  source: string | null;
  starts_at: number;
  ends_at: number;
  reason: string;
  created_by: string;
  created_at: number;
}

const toSilence = (r: Row): Silence => ({
  id: r.id,
  siteId: r.site_id,
  type: r.type,
  source: r.source,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export class SqliteSilenceRepo implements SilenceRepo {
  constructor(private readonly db: Db) {}

  async add(s: Silence): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO silences (id, site_id, type, source, starts_at, ends_at, reason, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.id, s.siteId, s.type, s.source, s.startsAt, s.endsAt, s.reason, s.createdBy, s.createdAt);
  }

  async active(now: number, siteIds?: string[]): Promise<Silence[]> {
    const rows = siteIds
      ? this.db
          .prepare(
            `SELECT * FROM silences WHERE starts_at <= ? AND ends_at > ?
             AND site_id IN (SELECT value FROM json_each(?)) ORDER BY ends_at`,
          )
          .all(now, now, JSON.stringify(siteIds))
      : this.db
          .prepare('SELECT * FROM silences WHERE starts_at <= ? AND ends_at > ? ORDER BY ends_at')
          .all(now, now);
    return (rows as Row[]).map(toSilence);
  }

  async get(id: string): Promise<Silence | null> {
    const r = this.db.prepare('SELECT * FROM silences WHERE id = ?').get(id) as Row | undefined;
    return r ? toSilence(r) : null;
  }

  async end(id: string, now: number): Promise<boolean> {
    return (
      this.db.prepare('UPDATE silences SET ends_at = ? WHERE id = ? AND ends_at > ?').run(now, id, now)
        .changes === 1
    );
  }
}
