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
      expect.arrayContaining(['recording_segments_camera_start', 'recording_segments_end']),
    );
    const plan = db
      .prepare(
        'EXPLAIN QUERY PLAN SELECT id FROM recording_segments WHERE camera_id = ? AND start_ms < ? AND end_ms < ? ORDER BY start_ms LIMIT 10',
      )
      .all('a', 1, 1) as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX recording_segments_camera_start/);
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
});
