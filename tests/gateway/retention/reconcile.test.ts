/** Sweeper and reconciliation against a real SQLite index and real files. */
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { segmentFileName } from '../../../gateway/recorder/ffmpeg-args.js';
import { dayPath } from '../../../gateway/recorder/layout.js';
import { SegmentIndex } from '../../../gateway/recorder/segment-index.js';
import type { RetentionEvent } from '../../../gateway/retention/events.js';
import { RetentionPolicy } from '../../../gateway/retention/policy.js';
import { complianceReport } from '../../../gateway/retention/report.js';
import { RetentionSweeper } from '../../../gateway/retention/sweeper.js';
import { nodeFs } from '../../../gateway/retention/types.js';
import { tempDir } from '../../helpers/procs.js';
import { DAY, T0 } from './fakes.js';

const HOUR = 3_600_000;

describe('sweeper and reconciliation on disk', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  function setup(opts: { maxDropRows?: number; maxDropFraction?: number } = {}) {
    const dir = tempDir('cw-ret-');
    const db = new Database(join(dir.path, 'gw.db'));
    cleanups.push(() => dir.cleanup());
    cleanups.push(() => {
      db.close();
    });
    const root = join(dir.path, 'rec');
    const index = new SegmentIndex(db);
    const now = T0 + 40 * DAY;
    const events: RetentionEvent[] = [];
    const sweeper = new RetentionSweeper({
      index,
      rootDir: root,
      policy: () => RetentionPolicy.from({ siteDays: 30 }),
      onEvent: (e) => events.push(e),
      now: () => now,
      diskFree: async () => ({ freeBytes: 1e12, totalBytes: 2e12 }),
      probe: async () => ({ durationMs: HOUR, bytes: 3, videoCodec: 'h264' }),
      ...opts,
    });
    /** A segment file on disk (mtime = its end), indexed unless `indexed` is false. */
    const seg = (cam: string, startMs: number, indexed = true) => {
      const d = dayPath(root, cam, startMs);
      mkdirSync(d, { recursive: true });
      const path = join(d, segmentFileName(cam, startMs));
      writeFileSync(path, 'mp4');
      utimesSync(path, (startMs + HOUR) / 1000, (startMs + HOUR) / 1000);
      if (indexed) index.add({ cameraId: cam, path, startMs, endMs: startMs + HOUR, bytes: 3 });
      return path;
    };
    return { root, db, index, now, events, sweeper, seg };
  }

  it('deletes expired files and rows and keeps young ones; a crash between unlink and row delete is finished next pass', async () => {
    const t = setup();
    const old = [0, 1, 2].map((d) => t.seg('cam-1', T0 + d * DAY));
    const young = [20, 39].map((d) => t.seg('cam-1', T0 + d * DAY));
    // crash simulation: a previous pass unlinked this expired file but died before deleting its row
    const half = t.seg('cam-1', T0 + 3 * DAY);
    await nodeFs.unlink(half);
    const r = await t.sweeper.sweep();
    expect(r.deleted).toBe(4);
    for (const p of [...old, half]) {
      expect(existsSync(p)).toBe(false);
      expect(t.index.byPath(p)).toBeUndefined();
    }
    for (const p of young) {
      expect(existsSync(p)).toBe(true);
      expect(t.index.byPath(p)).toBeDefined();
    }
    expect(t.events.find((e) => e.type === 'segments_expired')).toMatchObject({
      cameraId: 'cam-1',
      count: 4,
    });
  });

  it('reconciles: unindexed young files are indexed, unindexed expired files deleted, rows without files become gaps', async () => {
    const t = setup();
    const orphanYoung = t.seg('cam-2', T0 + 35 * DAY, false);
    const orphanOld = t.seg('cam-2', T0 + 2 * DAY, false);
    const lost = t.seg('cam-2', T0 + 36 * DAY);
    const kept = t.seg('cam-2', T0 + 37 * DAY);
    for (let i = 0; i < 30; i++) t.seg('cam-3', T0 + 20 * DAY + i * HOUR);
    await nodeFs.unlink(lost);
    const r = await t.sweeper.reconcile();
    expect(r).toMatchObject({ indexed: 1, deleted: 1, dropped: 1, missing: 1, refused: false });
    expect(t.index.byPath(orphanYoung)).toMatchObject({
      cameraId: 'cam-2',
      startMs: T0 + 35 * DAY,
      endMs: T0 + 35 * DAY + HOUR,
    });
    expect(existsSync(orphanOld)).toBe(false);
    expect(t.index.byPath(lost)).toBeUndefined();
    expect(t.index.gaps('cam-2', 0, t.now)).toEqual([
      { cameraId: 'cam-2', fromMs: T0 + 36 * DAY, toMs: T0 + 36 * DAY + HOUR, reason: 'file_missing' },
    ]);
    expect(t.index.byPath(kept)).toBeDefined();
    expect(t.events.find((e) => e.type === 'orphans_reconciled')).toMatchObject({
      indexed: 1,
      deleted: 1,
      dropped: 1,
    });
  });

  it('refuses to drop rows when too many files are missing (unmounted volume), and drops them when forced', async () => {
    const t = setup({ maxDropRows: 5, maxDropFraction: 0.5 });
    const paths = Array.from({ length: 12 }, (_, i) => t.seg('cam-4', T0 + 30 * DAY + i * HOUR));
    for (const p of paths.slice(0, 8)) await nodeFs.unlink(p);
    const r = await t.sweeper.reconcile();
    expect(r.refused).toBe(true);
    expect(t.index.totals('cam-4').segments).toBe(12);
    expect(t.index.gaps('cam-4', 0, t.now)).toEqual([]);
    expect(t.events.find((e) => e.type === 'reconcile_refused')).toMatchObject({
      missing: 8,
      checked: 12,
      maxRows: 5,
    });
    const f = await t.sweeper.reconcile({ force: true });
    expect(f.dropped).toBe(8);
    expect(t.index.totals('cam-4').segments).toBe(4);
  });

  it('refuses by fraction as well', async () => {
    const t = setup({ maxDropRows: 100, maxDropFraction: 0.2 });
    const paths = Array.from({ length: 10 }, (_, i) => t.seg('cam-5', T0 + 30 * DAY + i * HOUR));
    for (const p of paths.slice(0, 3)) await nodeFs.unlink(p);
    expect((await t.sweeper.reconcile()).refused).toBe(true); // 3 of 10 > 20 %
    const t2 = setup({ maxDropRows: 100, maxDropFraction: 0.2 });
    const p2 = Array.from({ length: 10 }, (_, i) => t2.seg('cam-5', T0 + 30 * DAY + i * HOUR));
    await nodeFs.unlink(p2[0]!);
    expect(await t2.sweeper.reconcile()).toMatchObject({ refused: false, dropped: 1 });
  });

  it('reports per-camera compliance: oldest kept, days kept, continuity over the policy window, gaps, rate, forecast', async () => {
    const t = setup();
    // cam-6: every hour for the last 35 days except a 1-day hole 10 days ago
    for (let ts = t.now - 35 * DAY; ts < t.now; ts += HOUR) {
      if (ts >= t.now - 10 * DAY && ts < t.now - 9 * DAY) continue;
      t.index.add({ cameraId: 'cam-6', path: `/x/${ts}`, startMs: ts, endMs: ts + HOUR, bytes: 1000 });
    }
    t.index.addGap({ cameraId: 'cam-6', fromMs: t.now - 10 * DAY, toMs: t.now - 9 * DAY, reason: 'stall' });
    const f = (await t.sweeper.sweep()).forecast!;
    const [c] = complianceReport({
      index: t.index,
      policy: RetentionPolicy.from({ siteDays: 30 }),
      now: t.now,
      forecast: f,
      cameras: ['cam-6'],
    });
    expect(c).toMatchObject({
      cameraId: 'cam-6',
      policyDays: 30,
      daysKept: 30.04, // the sweep removed what ended before the cutoff; the segment ending at it stays
      retentionMet: true,
      bytesPerDay: 24_000,
    });
    expect(c!.continuityPct).toBeCloseTo((29 / 30) * 100, 1);
    expect(c!.gaps).toEqual([
      { cameraId: 'cam-6', fromMs: t.now - 10 * DAY, toMs: t.now - 9 * DAY, reason: 'stall' },
    ]);
    expect(c!.forecastDays).toBeGreaterThan(1000);
    const none = complianceReport({
      index: t.index,
      policy: RetentionPolicy.from({ siteDays: 30 }),
      now: t.now,
      cameras: ['new'],
    });
    expect(none.map((x) => x.cameraId)).toEqual(['cam-6', 'new']); // indexed cameras are reported too
    expect(none[1]).toMatchObject({
      oldestKeptMs: null,
      daysKept: 0,
      continuityPct: 0,
      retentionMet: false,
      forecastDays: null,
    });
  });
});
