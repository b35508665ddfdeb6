import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS, migrate, SegmentIndex } from '../../../gateway/recorder/segment-index.js';

describe('segment index', () => {
  const dbs: Database.Database[] = [];
  afterEach(() => {
    for (const d of dbs.splice(0)) d.close();
  });
  const open = () => {
    const db = new Database(':memory:');
    dbs.push(db);
    return new SegmentIndex(db);
  };
  const T = Date.UTC(2026, 0, 1);

  it('migrates a shared database idempotently and creates the expiry indexes', () => {
    const db = new Database(':memory:');
    dbs.push(db);
    db.exec('CREATE TABLE other (x)');
    migrate(db);
    migrate(db);
    const idx = db
      .prepare("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='recording_segments'")
      .all();
    expect(idx.map((r) => (r as { name: string }).name)).toEqual(
      expect.arrayContaining(['recording_segments_camera_start_bytes', 'recording_segments_end']),
    );
    const plan = db
      .prepare(
        'EXPLAIN QUERY PLAN SELECT id FROM recording_segments WHERE camera_id = ? AND start_ms < ? AND end_ms < ? ORDER BY start_ms LIMIT 10',
      )
      .all('a', 1, 1) as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX recording_segments_camera_start_bytes/);
    // the bytes/day measure reads the index alone
    const perDay = db
      .prepare(
        'EXPLAIN QUERY PLAN SELECT coalesce(sum(bytes), 0) AS b, min(start_ms) AS s FROM recording_segments WHERE camera_id = ? AND start_ms >= ? AND start_ms < ?',
      )
      .all('a', 1, 2) as Array<{ detail: string }>;
    expect(perDay.map((p) => p.detail).join(' ')).toMatch(
      /COVERING INDEX recording_segments_camera_start_bytes/,
    );
  });

  it('keeps per-camera totals through adds, removes and batch removes, and fills them when upgrading a v1 index', () => {
    const db = new Database(':memory:');
    dbs.push(db);
    // a gateway database made before the totals existed: version 1 tables with rows in them
    db.exec(`CREATE TABLE recorder_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
      INSERT INTO recorder_migrations VALUES (1, 0);
      CREATE TABLE recording_segments (id INTEGER PRIMARY KEY AUTOINCREMENT, camera_id TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, bytes INTEGER NOT NULL,
        CHECK (end_ms >= start_ms));
      CREATE INDEX recording_segments_camera_start ON recording_segments(camera_id, start_ms);
      CREATE INDEX recording_segments_end ON recording_segments(end_ms);
      CREATE TABLE recording_gaps (id INTEGER PRIMARY KEY AUTOINCREMENT, camera_id TEXT NOT NULL,
        from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, reason TEXT NOT NULL);
      CREATE INDEX recording_gaps_camera_from ON recording_gaps(camera_id, from_ms);`);
    const ins = db.prepare(
      'INSERT INTO recording_segments (camera_id, path, start_ms, end_ms, bytes) VALUES (?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < 6; i++)
      ins.run(i % 2 ? 'b' : 'a', `/v1/${i}.mp4`, T + i * 10_000, T + (i + 1) * 10_000, 100 + i);
    const ix = new SegmentIndex(db);
    const direct = (cam?: string) => {
      const r = db
        .prepare(
          `SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM recording_segments ${cam ? 'WHERE camera_id = ?' : ''}`,
        )
        .get(...(cam ? [cam] : [])) as { n: number; b: number };
      return { segments: r.n, bytes: r.b };
    };
    expect(ix.totals('a')).toEqual({ segments: 3, bytes: 100 + 102 + 104 });
    expect(ix.totals()).toEqual(direct());
    const added = [];
    for (let i = 0; i < 20; i++)
      added.push(
        ix.add({
          cameraId: `c${i % 3}`,
          path: `/n/${i}.mp4`,
          startMs: T + i,
          endMs: T + i + 5,
          bytes: i * 7,
        })!,
      );
    ix.remove(added[0]!.id);
    ix.removeMany(added.slice(5, 12).map((s) => s.id));
    ix.removeWithGap(added[15]!, 'test');
    for (const cam of ['a', 'b', 'c0', 'c1', 'c2', 'nobody']) expect(ix.totals(cam)).toEqual(direct(cam));
    expect(ix.totals()).toEqual(direct());
  });

  it('indexes segments once per path and answers oldest/last/range/expired/cameras', () => {
    const ix = open();
    for (let i = 0; i < 10; i++) {
      ix.add({
        cameraId: 'a',
        path: `/a/${i}.mp4`,
        startMs: T + i * 10_000,
        endMs: T + (i + 1) * 10_000,
        bytes: 100,
      });
    }
    ix.add({ cameraId: 'b', path: '/b/0.mp4', startMs: T, endMs: T + 10_000, bytes: 5 });
    expect(ix.add({ cameraId: 'a', path: '/a/0.mp4', startMs: 0, endMs: 1, bytes: 1 })).toBeUndefined();
    expect(ix.cameras()).toEqual(['a', 'b']);
    expect(ix.oldest('a')!.path).toBe('/a/0.mp4');
    expect(ix.last('a')!.path).toBe('/a/9.mp4');
    expect(ix.range('a', T + 15_000, T + 35_000).map((s) => s.path)).toEqual([
      '/a/1.mp4',
      '/a/2.mp4',
      '/a/3.mp4',
    ]);
    expect(ix.expired('a', T + 30_000, 100).map((s) => s.path)).toEqual(['/a/0.mp4', '/a/1.mp4']);
    expect(ix.expired('a', T + 30_001, 2).length).toBe(2);
    expect(ix.totals('a')).toEqual({ segments: 10, bytes: 1000 });
    expect(ix.totals()).toEqual({ segments: 11, bytes: 1005 });
    expect(ix.bytesBetween('a', T, T + 20_000)).toBe(200);
  });

  it('computes continuity and gaps with recorded reasons', () => {
    const ix = open();
    const seg = (i: number, a: number, b: number) =>
      ix.add({ cameraId: 'c', path: `/c/${i}`, startMs: T + a, endMs: T + b, bytes: 1 });
    seg(0, 0, 10_000);
    seg(1, 10_000, 20_000);
    seg(2, 50_000, 60_000);
    seg(3, 60_500, 70_000);
    ix.addGap({ cameraId: 'c', fromMs: T + 20_000, toMs: T + 50_000, reason: 'stall' });
    const c = ix.continuity('c', T, T + 100_000, 1000);
    expect(c.windowMs).toBe(100_000);
    expect(c.coveredMs).toBe(40_000); // the 500 ms hole is within tolerance
    expect(c.ratio).toBeCloseTo(0.4);
    expect(c.gaps).toEqual([
      { cameraId: 'c', fromMs: T + 20_000, toMs: T + 50_000, reason: 'stall' },
      { cameraId: 'c', fromMs: T + 70_000, toMs: T + 100_000, reason: 'unrecorded' },
    ]);
    expect(ix.continuity('c', T + 5000, T + 15_000).ratio).toBe(1);
    expect(ix.continuity('none', T, T + 1000).ratio).toBe(0);
  });

  it('measures bytes per day over the recorded span', () => {
    const ix = open();
    for (let d = 0; d < 10; d++) {
      ix.add({
        cameraId: 'a',
        path: `/a/${d}`,
        startMs: T + d * DAY_MS,
        endMs: T + (d + 1) * DAY_MS,
        bytes: 1000,
      });
    }
    const now = T + 10 * DAY_MS;
    expect(ix.bytesPerDay('a', 7, now)).toBeCloseTo(1000, 5);
    expect(ix.bytesPerDay('a', 30, now)).toBeCloseTo(1000, 5); // only 10 days recorded
    expect(ix.bytesPerDay('zzz', 7, now)).toBe(0);
  });

  it('drops a row and records its gap atomically', () => {
    const ix = open();
    const s = ix.add({ cameraId: 'a', path: '/a', startMs: T, endMs: T + 10, bytes: 1 })!;
    ix.removeWithGap(s, 'file_missing');
    expect(ix.byPath('/a')).toBeUndefined();
    expect(ix.gaps('a', T, T + 10)).toEqual([
      { cameraId: 'a', fromMs: T, toMs: T + 10, reason: 'file_missing' },
    ]);
    expect(ix.dropGapsBefore(T + 11)).toBe(1);
  });

  it('commits an index row without changing the connection durability, even when the insert fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-segidx-'));
    try {
      const db = new Database(join(dir, 'gateway.db'));
      dbs.push(db);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const ix = new SegmentIndex(db);
      ix.add({ cameraId: 'a', path: '/a/1', startMs: T, endMs: T + 10, bytes: 5 });
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      // end before start breaks the CHECK: the level is restored on the way out of the failure
      expect(() => ix.add({ cameraId: 'a', path: '/a/2', startMs: T + 10, endMs: T, bytes: 5 })).toThrow(
        /CHECK/,
      );
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      // committed: another connection sees the first row, not the refused one
      const other = new Database(join(dir, 'gateway.db'), { readonly: true });
      dbs.push(other);
      expect(other.prepare('SELECT path FROM recording_segments').all()).toEqual([{ path: '/a/1' }]);
    } finally {
      for (const d of dbs.splice(0)) d.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
