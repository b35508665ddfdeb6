/**
 * Read-only view of the central's SQLite store for the soak: event lag
 * (source timestamp → received by the central, per new row since the last
 * read) and the final counts of what was stored.
 */
import Database from 'better-sqlite3';
import { centralDbPath } from '../central/central.js';

export const COUNTED_KINDS = ['emergency_call', 'attendance', 'panel_alarm'] as const;
export type CountedKind = (typeof COUNTED_KINDS)[number];

export class StoreReader {
  private db: Database.Database | undefined;
  private lastRowid = 0;

  constructor(private readonly centralDir: string) {}

  private open(): Database.Database {
    if (!this.db) {
      this.db = new Database(centralDbPath({ dataDir: this.centralDir }), {
        readonly: true,
        fileMustExist: true,
      });
      this.db.pragma('busy_timeout = 5000');
    }
    return this.db;
  }

  /**
   * Lag in ms of every event stored since the previous call. Panel alarms
   * are left out: their timestamp is the panel's clock at one-second
   * resolution, which would swamp the figure.
   */
  newLags(): { rows: number; lags: number[] } {
    const rows = this.open()
      .prepare('SELECT rowid AS r, kind, ts, received_at AS at FROM events WHERE rowid > ? ORDER BY rowid')
      .all(this.lastRowid) as Array<{ r: number; kind: string; ts: string; at: number }>;
    const lags: number[] = [];
    for (const row of rows) {
      this.lastRowid = row.r;
      if (row.kind === 'panel_alarm') continue;
      const src = Date.parse(row.ts);
      if (Number.isFinite(src)) lags.push(row.at - src);
    }
    return { rows: rows.length, lags };
  }

  counts(): Record<CountedKind, number> {
    const out: Record<CountedKind, number> = { emergency_call: 0, attendance: 0, panel_alarm: 0 };
    const rows = this.open()
      .prepare(
        `SELECT kind, count(*) AS n FROM events WHERE kind IN (${COUNTED_KINDS.map(() => '?').join(',')}) GROUP BY kind`,
      )
      .all(...COUNTED_KINDS) as Array<{ kind: CountedKind; n: number }>;
    for (const r of rows) out[r.kind] = r.n;
    return out;
  }

  /** Events stored twice under the same site, device and sequence number (should be 0). */
  duplicates(): number {
    return (
      this.open()
        .prepare(
          'SELECT count(*) AS n FROM (SELECT 1 FROM events GROUP BY site_id, device_id, seq HAVING count(*) > 1)',
        )
        .get() as { n: number }
    ).n;
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}
