import { type SilenceRow as Row, toSilence } from '../rows.js';
import type { Silence, SilenceRepo } from '../types.js';
import type { Pool } from './db.js';

export class PgSilenceRepo implements SilenceRepo {
  constructor(private readonly pool: Pool) {}

  async add(s: Silence): Promise<void> {
    await this.pool.query(
      `INSERT INTO silences (id, site_id, type, source, starts_at, ends_at, reason, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [s.id, s.siteId, s.type, s.source, s.startsAt, s.endsAt, s.reason, s.createdBy, s.createdAt],
    );
  }

  async active(now: number, siteIds?: string[]): Promise<Silence[]> {
    const r = siteIds
      ? await this.pool.query<Row>(
          `SELECT * FROM silences WHERE starts_at <= $1 AND ends_at > $1 AND site_id = ANY($2::text[])
           ORDER BY ends_at`,
          [now, siteIds],
        )
      : await this.pool.query<Row>(
          'SELECT * FROM silences WHERE starts_at <= $1 AND ends_at > $1 ORDER BY ends_at',
          [now],
        );
    return r.rows.map(toSilence);
  }

  async get(id: string): Promise<Silence | null> {
    const r = await this.pool.query<Row>('SELECT * FROM silences WHERE id = $1', [id]);
    return r.rows[0] ? toSilence(r.rows[0]) : null;
  }

  async end(id: string, now: number): Promise<boolean> {
    const r = await this.pool.query('UPDATE silences SET ends_at = $1 WHERE id = $2 AND ends_at > $1', [
      now,
      id,
    ]);
    return r.rowCount === 1;
  }
}
