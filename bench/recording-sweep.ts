/**
 * Retention sweep over a large synthetic segment index.
 *
 * The index (the gateway's schema and `SegmentIndex.add`, batched
 * transactions, `synchronous=FULL` as the gateway opens it) holds `kept` rows
 * that are younger than the 30-day policy (per camera, contiguous segments
 * ending at "now", like a camera that records all the time) and an expiring
 * block of `expire` segments per camera that ended before the cutoff. Only the
 * expiring block has files (empty files in the real day-directory layout);
 * kept rows point to no file, the sweeper never touches them. Each round
 * times one real `RetentionSweeper.sweep()` pass and, inside it, the expiry
 * loop alone (pass start → last `segments_expired` event; the rest of the pass
 * is the forecast, which reads `measureDays` of rows per camera and the
 * index's totals). One index file per kept size; rounds alternate between the
 * files and medians are reported.
 *
 * Same-run baselines over the same number of segments: `unlink` of as many
 * empty files one after another, a bare `DELETE … WHERE id = ?` per row in
 * autocommit (the statement the sweeper runs per segment), and one `DELETE`
 * statement for all of them.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dayDir, segmentFileName } from '../gateway/recorder/ffmpeg-args.js';
import { type NewSegment, SegmentIndex } from '../gateway/recorder/segment-index.js';
import { DAY_MS, RetentionPolicy } from '../gateway/retention/policy.js';
import { RetentionSweeper } from '../gateway/retention/sweeper.js';
import { openDatabase } from '../storage/sqlite/open.js';

export interface SweepOptions {
  dir: string;
  cameras: number;
  segmentS: number;
  /** Expiring segments per camera. */
  expirePerCamera: number;
  /** Kept row counts to sweep against, ascending (e.g. 1M and 4M). */
  kept: number[];
  bitrateKbps: number;
  /** Rounds per kept size (a fresh expiring block each; medians reported). */
  rounds: number;
  log: (line: string) => void;
}

export interface Round {
  /** The whole `sweep()` pass. */
  passS: number;
  /** From the pass's start to its last `segments_expired` event: the expiry loop alone. */
  expiryS: number;
  unlinkS: number;
  deleteRowS: number;
  deleteOneS: number;
}

export interface SweepRun {
  kept: number;
  expired: number;
  rounds: number;
  /** Medians over the rounds. */
  passS: number;
  expiryS: number;
  unlinkS: number;
  deleteRowS: number;
  deleteOneS: number;
  fillS: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const NOW = Date.UTC(2026, 11, 1);
const POLICY = RetentionPolicy.from({ siteDays: 30 });
const CUTOFF = NOW - 30 * DAY_MS;
const secs = (t0: number) => (performance.now() - t0) / 1000;

type Db = ReturnType<typeof openDatabase>;

interface Store {
  db: Db;
  index: SegmentIndex;
  insertMany: (rows: NewSegment[]) => void;
}

function openStore(path: string): Store {
  const db = openDatabase(path, { synchronous: 'FULL' });
  const index = new SegmentIndex(db);
  index.totals(); // migrates
  const insertMany = db.transaction((rows: NewSegment[]) => {
    for (const r of rows) index.add(r);
  });
  return { db, index, insertMany };
}

/**
 * One index file per kept size (each a copy of the previous one, filled up),
 * then rounds that alternate between the files, so that a change of machine
 * load hits every size alike.
 */
export async function benchSweep(o: SweepOptions): Promise<SweepRun[]> {
  const segMs = o.segmentS * 1000;
  const sizes = [...o.kept].sort((a, b) => a - b);
  if (Math.max(...sizes) / o.cameras > (29 * DAY_MS) / segMs)
    throw new Error('kept rows do not fit in 29 days at this segment length');
  const bytes = Math.round((o.bitrateKbps * 1000 * o.segmentS) / 8);
  const cams = Array.from({ length: o.cameras }, (_, c) => `cam-${String(c).padStart(3, '0')}`);
  const seg = (cam: string, startMs: number, base: string): NewSegment => ({
    cameraId: cam,
    path: join(base, cam, dayDir(startMs), segmentFileName(cam, startMs)),
    startMs,
    endMs: startMs + segMs,
    bytes,
  });
  mkdirSync(o.dir, { recursive: true });
  const paths = sizes.map((_, i) => join(o.dir, `index-${i}.db`));
  const fills: number[] = [];
  let perCam = 0; // kept segments per camera so far, newest first back from NOW
  for (const [i, kept] of sizes.entries()) {
    if (i > 0) copyFileSync(paths[i - 1]!, paths[i]!);
    const st = openStore(paths[i]!);
    const target = Math.ceil(kept / o.cameras);
    const t0 = performance.now();
    let batch: NewSegment[] = [];
    // Older and older rows, all cameras interleaved (the order a gateway indexes them).
    for (let j = perCam; j < target; j++) {
      for (const cam of cams) batch.push(seg(cam, NOW - (j + 1) * segMs, join(o.dir, 'kept')));
      if (batch.length >= 20_000) {
        st.insertMany(batch);
        batch = [];
      }
    }
    st.insertMany(batch);
    perCam = target;
    fills.push(secs(t0));
    o.log(
      `  index ${i}: ${st.index.totals().segments.toLocaleString('en')} kept rows (${fills[i]!.toFixed(1)} s to add)`,
    );
    st.db.pragma('wal_checkpoint(TRUNCATE)');
    st.db.close();
  }
  const stores = paths.map(openStore);
  try {
    const keptRows = stores.map((st) => st.index.totals().segments);
    const rounds: Round[][] = stores.map(() => []);
    for (let k = 0; k < o.rounds; k++) {
      for (const [i, st] of stores.entries()) {
        const root = join(o.dir, `rec-${i}`);
        const segAt = (cam: string, startMs: number) => seg(cam, startMs, root);
        rounds[i]!.push(await round({ o, ...st, cams, root, segMs, seg: segAt, keptRows: keptRows[i]! }));
      }
    }
    return stores.map((_, i) => {
      const med = (f: (r: Round) => number) => median(rounds[i]!.map(f));
      const run: SweepRun = {
        kept: keptRows[i]!,
        expired: cams.length * o.expirePerCamera,
        rounds: o.rounds,
        passS: med((r) => r.passS),
        expiryS: med((r) => r.expiryS),
        unlinkS: med((r) => r.unlinkS),
        deleteRowS: med((r) => r.deleteRowS),
        deleteOneS: med((r) => r.deleteOneS),
        fillS: fills[i]!,
      };
      o.log(formatRun(run));
      return run;
    });
  } finally {
    for (const st of stores) st.db.close();
  }
}

interface RoundCtx {
  o: SweepOptions;
  index: SegmentIndex;
  db: Db;
  cams: string[];
  root: string;
  segMs: number;
  seg: (cam: string, startMs: number) => NewSegment;
  insertMany: (rows: NewSegment[]) => void;
  keptRows: number;
}

/** One expiring block swept by the real sweeper, then the baselines over as many segments. */
async function round(c: RoundCtx): Promise<Round> {
  const { o, index, db, cams, root, segMs, seg, insertMany, keptRows } = c;
  const expiring = expiringBlock(cams, o.expirePerCamera, segMs, seg);
  await writeFiles(expiring.map((s) => s.path));
  insertMany(expiring);
  let deletedEvents = 0;
  let lastExpiredAt = 0;
  const sweeper = new RetentionSweeper({
    index,
    rootDir: root,
    policy: () => POLICY,
    onEvent: (e) => {
      if (e.type !== 'segments_expired') return;
      deletedEvents += e.count;
      lastExpiredAt = performance.now();
    },
    now: () => NOW,
    // A disk far larger than the footage: no retention_at_risk noise.
    diskFree: async () => ({ freeBytes: 1e15, totalBytes: 2e15 }),
    cameras: () => cams,
  });
  let t = performance.now();
  const r = await sweeper.sweep();
  const passS = secs(t);
  const expiryS = (lastExpiredAt - t) / 1000;
  const left = index.totals().segments;
  if (r.deleted !== expiring.length || r.failed || deletedEvents !== expiring.length) {
    throw new Error(`sweep deleted ${r.deleted} of ${expiring.length} (failed ${r.failed})`);
  }
  if (left !== keptRows) throw new Error(`sweep left ${left} rows, expected ${keptRows}`);

  const files = expiring.map((s) => s.path.replace(root, join(o.dir, 'plain')));
  await writeFiles(files);
  t = performance.now();
  for (const f of files) await unlink(f);
  const unlinkS = secs(t);
  const ids = insertBare(db, expiringBlock(cams, o.expirePerCamera, segMs, seg), insertMany, index);
  const del = db.prepare('DELETE FROM recording_segments WHERE id = ?');
  t = performance.now();
  for (const id of ids) del.run(id);
  const deleteRowS = secs(t);
  const ids2 = insertBare(db, expiringBlock(cams, o.expirePerCamera, segMs, seg), insertMany, index);
  t = performance.now();
  const gone = db
    .prepare('DELETE FROM recording_segments WHERE id BETWEEN ? AND ?')
    .run(ids2[0], ids2.at(-1)).changes;
  const deleteOneS = secs(t);
  if (gone !== ids2.length || index.totals().segments !== keptRows)
    throw new Error('baseline delete mismatch');
  return { passS, expiryS, unlinkS, deleteRowS, deleteOneS };
}

function expiringBlock(
  cams: string[],
  perCam: number,
  segMs: number,
  seg: (cam: string, startMs: number) => NewSegment,
): NewSegment[] {
  const out: NewSegment[] = [];
  // Ends at cutoff − 1 s and earlier: every one of them is expired, none is borderline.
  for (let j = perCam; j >= 1; j--) for (const cam of cams) out.push(seg(cam, CUTOFF - 1000 - j * segMs));
  return out;
}

function insertBare(
  db: ReturnType<typeof openDatabase>,
  rows: NewSegment[],
  insertMany: (rows: NewSegment[]) => void,
  index: SegmentIndex,
): number[] {
  insertMany(rows.map((r) => ({ ...r, path: `${r.path}.bare` })));
  const first = index.byPath(`${rows[0]!.path}.bare`)!.id;
  const last = (db.prepare('SELECT max(id) AS m FROM recording_segments').get() as { m: number }).m;
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

async function writeFiles(paths: string[]): Promise<void> {
  const dirs = new Set(paths.map((p) => p.slice(0, p.lastIndexOf('/'))));
  for (const d of dirs) await mkdir(d, { recursive: true });
  for (let i = 0; i < paths.length; i += 64)
    await Promise.all(paths.slice(i, i + 64).map((p) => writeFile(p, '')));
}

export function formatRun(r: SweepRun): string {
  const rate = (x: number) => `${Math.round(r.expired / x).toLocaleString('en')}/s`;
  const base = r.unlinkS + r.deleteRowS;
  return [
    `  kept ${r.kept.toLocaleString('en')} (median of ${r.rounds}): ${r.expired.toLocaleString('en')} expired`,
    `expiry ${r.expiryS.toFixed(2)} s (${rate(r.expiryS)})`,
    `whole pass ${r.passS.toFixed(2)} s (forecast etc. ${(r.passS - r.expiryS).toFixed(2)} s)`,
    `unlink ${r.unlinkS.toFixed(2)} s (${rate(r.unlinkS)})`,
    `DELETE per row ${r.deleteRowS.toFixed(2)} s (${rate(r.deleteRowS)})`,
    `one DELETE ${r.deleteOneS.toFixed(3)} s`,
    `expiry / (unlink + DELETE per row) = ${(r.expiryS / base).toFixed(2)}`,
  ].join(', ');
}
