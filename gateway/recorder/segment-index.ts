/**
 * SQLite index of closed recording segments and of recording gaps. It shares
 * the gateway's database (pass its `Database`); `migrate(db)` creates the
 * tables. Indexes: (camera_id, start_ms, bytes) for per-camera range, expiry
 * and bytes-per-day queries, (end_ms) for global expiry, so the retention
 * sweeper reads only rows that expire; per-camera totals are kept by triggers.
 */
import type Database from 'better-sqlite3';
import { migrate as applyMigrations } from '../../storage/sqlite/open.js';
import { relaxedTransaction } from '../../storage/sqlite/relaxed.js';

export type Db = Database.Database;

export const DAY_MS = 86_400_000;

export interface NewSegment {
  cameraId: string;
  path: string;
  startMs: number;
  endMs: number;
  bytes: number;
}

export interface Segment extends NewSegment {
  id: number;
}

export interface Gap {
  cameraId: string;
  fromMs: number;
  toMs: number;
  reason: string;
}

export interface Continuity {
  fromMs: number;
  toMs: number;
  windowMs: number;
  coveredMs: number;
  /** covered / window, 0..1 (1 for an empty window). */
  ratio: number;
  /** Uncovered intervals of the window, with the recorded reason when one overlaps (else `unrecorded`). */
  gaps: Gap[];
}

const MIGRATIONS = [
  {
    version: 1,
    sql: `
CREATE TABLE recording_segments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  camera_id TEXT NOT NULL,
  path TEXT NOT NULL UNIQUE,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  CHECK (end_ms >= start_ms)
);
CREATE INDEX recording_segments_camera_start ON recording_segments(camera_id, start_ms);
CREATE INDEX recording_segments_end ON recording_segments(end_ms);
CREATE TABLE recording_gaps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  camera_id TEXT NOT NULL,
  from_ms INTEGER NOT NULL,
  to_ms INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX recording_gaps_camera_from ON recording_gaps(camera_id, from_ms);
`,
  },
  {
    // Running totals per camera kept by triggers, so the forecast does not scan every kept
    // row at each pass (30 days x 64 cameras of 10 s segments is 16.6M rows); the bytes/day
    // measure reads (camera_id, start_ms, bytes) from the index alone.
    version: 2,
    sql: `
CREATE TABLE recording_totals (
  camera_id TEXT PRIMARY KEY,
  segments INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
INSERT INTO recording_totals (camera_id, segments, bytes)
  SELECT camera_id, count(*), coalesce(sum(bytes), 0) FROM recording_segments GROUP BY camera_id;
CREATE TRIGGER recording_totals_insert AFTER INSERT ON recording_segments BEGIN
  INSERT OR IGNORE INTO recording_totals (camera_id, segments, bytes) VALUES (new.camera_id, 0, 0);
  UPDATE recording_totals SET segments = segments + 1, bytes = bytes + new.bytes WHERE camera_id = new.camera_id;
END;
CREATE TRIGGER recording_totals_delete AFTER DELETE ON recording_segments BEGIN
  UPDATE recording_totals SET segments = segments - 1, bytes = bytes - old.bytes WHERE camera_id = old.camera_id;
END;
CREATE TRIGGER recording_totals_update AFTER UPDATE OF camera_id, bytes ON recording_segments BEGIN
  UPDATE recording_totals SET segments = segments - 1, bytes = bytes - old.bytes WHERE camera_id = old.camera_id;
  INSERT OR IGNORE INTO recording_totals (camera_id, segments, bytes) VALUES (new.camera_id, 0, 0);
  UPDATE recording_totals SET segments = segments + 1, bytes = bytes + new.bytes WHERE camera_id = new.camera_id;
END;
CREATE INDEX recording_segments_camera_start_bytes ON recording_segments(camera_id, start_ms, bytes);
DROP INDEX recording_segments_camera_start;
`,
  },
];

/** Creates or upgrades the recorder tables in a shared database. */
export function migrate(db: Db): void {
  applyMigrations(db, MIGRATIONS, 'recorder_migrations');
}

const COLS = 'id, camera_id AS cameraId, path, start_ms AS startMs, end_ms AS endMs, bytes';

function prepare(db: Db) {
  return {
    insert: db.prepare(
      'INSERT INTO recording_segments (camera_id, path, start_ms, end_ms, bytes) VALUES (?, ?, ?, ?, ?) ON CONFLICT(path) DO NOTHING RETURNING id',
    ),
    byPath: db.prepare(`SELECT ${COLS} FROM recording_segments WHERE path = ?`),
    remove: db.prepare('DELETE FROM recording_segments WHERE id = ?'),
    last: db.prepare(
      `SELECT ${COLS} FROM recording_segments WHERE camera_id = ? ORDER BY start_ms DESC LIMIT 1`,
    ),
    oldest: db.prepare(
      `SELECT ${COLS} FROM recording_segments WHERE camera_id = ? ORDER BY start_ms LIMIT 1`,
    ),
    // start_ms < cutoff lets the (camera_id, start_ms) index bound the scan; end_ms < cutoff decides.
    expired: db.prepare(
      `SELECT ${COLS} FROM recording_segments WHERE camera_id = ? AND start_ms < ? AND end_ms < ? ORDER BY start_ms LIMIT ?`,
    ),
    range: db.prepare(
      `SELECT ${COLS} FROM recording_segments WHERE camera_id = ? AND start_ms < ? AND start_ms >= ? AND end_ms > ? ORDER BY start_ms`,
    ),
    maxLen: db.prepare('SELECT max(end_ms - start_ms) AS m FROM recording_segments WHERE camera_id = ?'),
    bytesSince: db.prepare(
      'SELECT coalesce(sum(bytes), 0) AS b, min(start_ms) AS s FROM recording_segments WHERE camera_id = ? AND start_ms >= ? AND start_ms < ?',
    ),
    bytesBetween: db.prepare(
      'SELECT coalesce(sum(bytes), 0) AS b FROM recording_segments WHERE camera_id = ? AND start_ms >= ? AND start_ms < ?',
    ),
    totals: db.prepare(
      'SELECT coalesce(sum(segments), 0) AS n, coalesce(sum(bytes), 0) AS b FROM recording_totals WHERE camera_id = ?',
    ),
    allTotals: db.prepare(
      'SELECT coalesce(sum(segments), 0) AS n, coalesce(sum(bytes), 0) AS b FROM recording_totals',
    ),
    cameras: db.prepare(`WITH RECURSIVE c(id) AS (
        SELECT min(camera_id) FROM recording_segments
        UNION ALL
        SELECT (SELECT min(camera_id) FROM recording_segments WHERE camera_id > c.id) FROM c WHERE c.id IS NOT NULL)
      SELECT id FROM c WHERE id IS NOT NULL`),
    after: db.prepare(`SELECT ${COLS} FROM recording_segments WHERE id > ? ORDER BY id LIMIT ?`),
    addGap: db.prepare('INSERT INTO recording_gaps (camera_id, from_ms, to_ms, reason) VALUES (?, ?, ?, ?)'),
    gaps: db.prepare(
      `SELECT camera_id AS cameraId, from_ms AS fromMs, to_ms AS toMs, reason FROM recording_gaps
       WHERE camera_id = ? AND from_ms < ? AND to_ms > ? ORDER BY from_ms`,
    ),
    dropGaps: db.prepare('DELETE FROM recording_gaps WHERE to_ms < ?'),
  };
}

export class SegmentIndex {
  private stmts: ReturnType<typeof prepare> | undefined;

  constructor(private readonly db: Db) {}

  private get s(): ReturnType<typeof prepare> {
    if (!this.stmts) {
      migrate(this.db);
      this.stmts = prepare(this.db);
    }
    return this.stmts;
  }

  /**
   * Indexes a closed segment; returns undefined when its path is already indexed.
   *
   * The row is committed without its own fsync (`relaxedTransaction`): a row lost to a power cut is
   * rebuilt from its file, by the recovery pass (files newer than a camera's
   * last row) and by the sweeper's reconciliation (files without a row), and the
   * next durable commit on the connection (outbox, sweeper) syncs it anyway. The
   * fsync per segment was most of the recorder's own cost with 64 cameras.
   */
  add(seg: NewSegment): Segment | undefined {
    const s = this.s;
    const row = relaxedTransaction(
      this.db,
      () =>
        s.insert.get(seg.cameraId, seg.path, seg.startMs, seg.endMs, seg.bytes) as { id: number } | undefined,
    );
    return row ? { ...seg, id: row.id } : undefined;
  }

  byPath(path: string): Segment | undefined {
    return this.s.byPath.get(path) as Segment | undefined;
  }

  remove(id: number): void {
    this.s.remove.run(id);
  }

  /** Removes these rows in one transaction (one fsync for a sweeper batch). */
  removeMany(ids: number[]): void {
    if (!ids.length) return;
    this.db.transaction(() => {
      for (const id of ids) this.s.remove.run(id);
    })();
  }

  /** Removes a segment row and records the hole it leaves, atomically. */
  removeWithGap(seg: Segment, reason: string): void {
    this.db.transaction(() => {
      this.s.remove.run(seg.id);
      this.s.addGap.run(seg.cameraId, seg.startMs, seg.endMs, reason);
    })();
  }

  /** Most recent segment of a camera (by start). */
  last(cameraId: string): Segment | undefined {
    return this.s.last.get(cameraId) as Segment | undefined;
  }

  /** Oldest kept segment of a camera. */
  oldest(cameraId: string): Segment | undefined {
    return this.s.oldest.get(cameraId) as Segment | undefined;
  }

  /** Camera ids that have segments (skip-scan over the camera index). */
  cameras(): string[] {
    return (this.s.cameras.all() as Array<{ id: string }>).map((r) => r.id);
  }

  /** Up to `limit` segments of a camera whose end is before `cutoffMs`, oldest first. */
  expired(cameraId: string, cutoffMs: number, limit: number): Segment[] {
    return this.s.expired.all(cameraId, cutoffMs, cutoffMs, limit) as Segment[];
  }

  /** Segments of a camera overlapping [fromMs, toMs), by start (for playback and continuity). */
  range(cameraId: string, fromMs: number, toMs: number): Segment[] {
    const maxLen = (this.s.maxLen.get(cameraId) as { m: number | null }).m ?? 0;
    return this.s.range.all(cameraId, toMs, fromMs - maxLen, fromMs) as Segment[];
  }

  /** Segments after `afterId` in id order (for batched walks such as orphan reconciliation). */
  page(afterId: number, limit: number): Segment[] {
    return this.s.after.all(afterId, limit) as Segment[];
  }

  totals(cameraId?: string): { segments: number; bytes: number } {
    const r = (cameraId === undefined ? this.s.allTotals.get() : this.s.totals.get(cameraId)) as {
      n: number;
      b: number;
    };
    return { segments: r.n, bytes: r.b };
  }

  /**
   * Bytes per day measured over the last `days` days before `nowMs` (over the
   * span actually recorded when the camera is younger than that; 0 without data).
   */
  bytesPerDay(cameraId: string, days: number, nowMs: number): number {
    const from = nowMs - days * DAY_MS;
    const r = this.s.bytesSince.get(cameraId, from, nowMs) as { b: number; s: number | null };
    if (r.s === null || r.b === 0) return 0;
    const spanMs = Math.max(nowMs - Math.max(from, r.s), 60_000);
    return (r.b * DAY_MS) / spanMs;
  }

  /** Bytes of a camera's segments starting in [fromMs, toMs). */
  bytesBetween(cameraId: string, fromMs: number, toMs: number): number {
    return (this.s.bytesBetween.get(cameraId, fromMs, toMs) as { b: number }).b;
  }

  addGap(gap: Gap): void {
    if (gap.toMs <= gap.fromMs) return;
    this.s.addGap.run(gap.cameraId, gap.fromMs, gap.toMs, gap.reason);
  }

  /** Recorded gaps of a camera overlapping [fromMs, toMs). */
  gaps(cameraId: string, fromMs: number, toMs: number): Gap[] {
    return this.s.gaps.all(cameraId, toMs, fromMs) as Gap[];
  }

  /** Forgets gap records that ended before `beforeMs` (they fall out of every policy window). */
  dropGapsBefore(beforeMs: number): number {
    return this.s.dropGaps.run(beforeMs).changes;
  }

  /** Covered share of [fromMs, toMs) and the uncovered intervals. */
  continuity(cameraId: string, fromMs: number, toMs: number, toleranceMs = 0): Continuity {
    const windowMs = Math.max(0, toMs - fromMs);
    const recorded = this.gaps(cameraId, fromMs, toMs);
    const holes: Gap[] = [];
    let cursor = fromMs;
    let covered = 0;
    const hole = (a: number, b: number) => {
      if (b - a <= toleranceMs) {
        covered += b - a;
        return;
      }
      const why = recorded.find((g) => g.fromMs < b && g.toMs > a);
      holes.push({ cameraId, fromMs: a, toMs: b, reason: why?.reason ?? 'unrecorded' });
    };
    for (const seg of this.range(cameraId, fromMs, toMs)) {
      const a = Math.max(seg.startMs, fromMs);
      const b = Math.min(seg.endMs, toMs);
      if (b <= cursor) continue;
      if (a > cursor) hole(cursor, a);
      covered += b - Math.max(a, cursor);
      cursor = b;
    }
    if (cursor < toMs) hole(cursor, toMs);
    return {
      fromMs,
      toMs,
      windowMs,
      coveredMs: covered,
      ratio: windowMs ? covered / windowMs : 1,
      gaps: holes,
    };
  }
}
