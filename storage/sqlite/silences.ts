import { type SilenceRow as Row, toSilence } from '../rows.js';
import type { Silence, SilenceRepo } from '../types.js';
import type { Db } from './open.js';
import { stmt } from './statements.js';

export class SqliteSilenceRepo implements SilenceRepo {
  constructor(private readonly db: Db) {}

  async add(s: Silence): Promise<void> {
    stmt(
      this.db,
      `INSERT INTO silences (id, site_id, type, source, starts_at, ends_at, reason, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(s.id, s.siteId, s.type, s.source, s.startsAt, s.endsAt, s.reason, s.createdBy, s.createdAt);
  }

  async active(now: number, siteIds?: string[]): Promise<Silence[]> {
    const rows = siteIds
      ? stmt(
          this.db,
          `SELECT * FROM silences WHERE starts_at <= ? AND ends_at > ?
             AND site_id IN (SELECT value FROM json_each(?)) ORDER BY ends_at`,
        ).all(now, now, JSON.stringify(siteIds))
      : stmt(this.db, 'SELECT * FROM silences WHERE starts_at <= ? AND ends_at > ? ORDER BY ends_at').all(
          now,
          now,
        );
    return (rows as Row[]).map(toSilence);
  }

  async get(id: string): Promise<Silence | null> {
    const r = stmt(this.db, 'SELECT * FROM silences WHERE id = ?').get(id) as Row | undefined;
    return r ? toSilence(r) : null;
  }

  async end(id: string, now: number): Promise<boolean> {
    return (
      stmt(this.db, 'UPDATE silences SET ends_at = ? WHERE id = ? AND ends_at > ?').run(now, id, now)
        .changes === 1
    );
  }
}
