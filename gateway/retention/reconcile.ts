/**
 * Orphan reconciliation between the segment index and the disk.
 *
 * - A row whose file is missing and that is not expired: the footage is lost;
 *   the row is dropped and a gap (`file_missing`) recorded in the same
 *   transaction. Safety limit: when more than `maxDropRows` rows, or more than
 *   `maxDropFraction` of the rows checked, are missing (an unmounted volume, a
 *   wrong root), nothing is dropped and `reconcile_refused` is raised instead.
 *   Missing rows that are expired are left to the sweeper (unlink of a missing
 *   file counts as done, then the row goes).
 * - A file in a day directory without a row: deleted only when even its
 *   youngest time estimate (max of mtime and the start in its name) is older
 *   than the camera's policy; otherwise it is probed and indexed.
 * The walk is O(files): run it at startup and daily, not every sweep.
 */
import { parseSegmentFileName } from '../recorder/ffmpeg-args.js';
import type { Prober } from '../recorder/probe.js';
import type { Segment } from '../recorder/segment-index.js';
import type { RetentionPolicy } from './policy.js';
import type { SweeperFs, SweepIndex } from './types.js';

export interface ReconcileOptions {
  index: SweepIndex;
  fs: SweeperFs;
  rootDir: string;
  policy: RetentionPolicy;
  now: number;
  probe?: Prober;
  maxDropRows: number;
  maxDropFraction: number;
  batchSize: number;
  /** Drop missing rows even above the safety limit (operator decision). */
  force?: boolean;
}

export interface ReconcileResult {
  checked: number;
  missing: number;
  dropped: number;
  refused: boolean;
  indexed: number;
  deleted: number;
  errors: number;
}

const tick = () => new Promise((r) => setImmediate(r));

export async function reconcile(o: ReconcileOptions): Promise<ReconcileResult> {
  const r: ReconcileResult = {
    checked: 0,
    missing: 0,
    dropped: 0,
    refused: false,
    indexed: 0,
    deleted: 0,
    errors: 0,
  };
  const missing: Segment[] = [];
  let afterId = 0;
  for (;;) {
    const page = o.index.page(afterId, o.batchSize);
    if (!page.length) break;
    for (const seg of page) {
      afterId = Math.max(afterId, seg.id);
      r.checked++;
      let there: boolean;
      try {
        there = await o.fs.exists(seg.path);
      } catch {
        r.errors++;
        continue; // unknown is not missing
      }
      if (there || seg.endMs < o.policy.cutoffFor(seg.cameraId, o.now)) continue;
      missing.push(seg);
    }
    if (!o.force && missing.length > o.maxDropRows) break;
    await tick();
  }
  r.missing = missing.length;
  r.refused =
    !o.force &&
    (missing.length > o.maxDropRows || missing.length > o.maxDropFraction * Math.max(1, r.checked));
  if (!r.refused) {
    for (const seg of missing) {
      o.index.removeWithGap(seg, 'file_missing');
      r.dropped++;
    }
  }

  for await (const f of o.fs.walk(o.rootDir)) {
    if (o.index.byPath(f.path)) continue;
    const parsed = parseSegmentFileName(f.name);
    const youngest = Math.max(f.mtimeMs, parsed?.startMs ?? Number.NEGATIVE_INFINITY);
    try {
      if (youngest < o.policy.cutoffFor(f.cameraId, o.now)) {
        await o.fs.unlink(f.path);
        r.deleted++;
        continue;
      }
      const p = o.probe ? await o.probe(f.path) : undefined;
      const endMs = Math.round(parsed && p ? parsed.startMs + p.durationMs : f.mtimeMs);
      const startMs = Math.round(parsed?.startMs ?? (p ? endMs - p.durationMs : endMs));
      if (
        o.index.add({
          cameraId: f.cameraId,
          path: f.path,
          startMs,
          endMs: Math.max(endMs, startMs),
          bytes: f.bytes,
        })
      ) {
        r.indexed++;
      }
    } catch {
      r.errors++;
    }
  }
  return r;
}
