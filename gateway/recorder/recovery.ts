/**
 * Startup (and pre-restart) recovery of one camera's recordings:
 * - an ffmpeg left running by a gateway that died is stopped (pid file);
 * - every media file left in `incoming/` (the segment ffmpeg was writing when
 *   it was killed, or closed segments not filed yet) is probed: its end is its
 *   mtime, its start the end minus the probed duration; it is filed and
 *   indexed. Unreadable files with content go to `unreadable/`, empty shells
 *   (no media written) are removed;
 * - files in the day directories of the last indexed segment and of today that
 *   are newer than the last indexed segment but have no row (crash between
 *   rename and insert) are indexed.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { logger } from '../../lib/logger.js';
import { parseSegmentFileName } from './ffmpeg-args.js';
import { dayPath, fileSegment, incomingDir, unreadableDir } from './layout.js';
import type { Prober } from './probe.js';
import type { Segment, SegmentIndex } from './segment-index.js';

const log = logger('gateway:recorder');

/** Files up to this size hold no media (ftyp + empty moov). */
const EMPTY_SHELL_BYTES = 4096;

export const PID_FILE = 'ffmpeg.pid';

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** Stops an ffmpeg that a previous gateway process left writing into `incoming/`. */
export async function stopOrphanFfmpeg(incoming: string, graceMs = 3000): Promise<void> {
  const pidFile = join(incoming, PID_FILE);
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
    let cmdline = '';
    try {
      cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
    } catch {
      // not running (or no procfs): nothing to stop
    }
    if (cmdline.includes(incoming)) {
      log.warn({ pid, incoming }, 'stopping ffmpeg left by a previous gateway process');
      try {
        process.kill(pid, 'SIGINT');
        const end = Date.now() + graceMs;
        while (Date.now() < end && alive(pid)) await new Promise((r) => setTimeout(r, 50));
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await unlink(pidFile).catch(() => undefined);
}

/**
 * Whether `pid` still runs. The orphan is no child of ours: once it exits it stays a zombie until
 * its new parent (PID 1 or a subreaper) reaps it, which may take seconds, and `kill(pid, 0)`
 * succeeds on a zombie. Waiting for that would hold recording back for the whole grace period.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) S ...`: the state follows the last ')' (comm may contain parentheses)
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: kill(0) is all we know
  }
}

async function recoverFile(
  index: SegmentIndex,
  root: string,
  cameraId: string,
  path: string,
  probe: Prober,
  startHint: number | undefined,
): Promise<Segment | undefined> {
  const st = await stat(path);
  const p = await probe(path);
  if (!p) {
    if (st.size <= EMPTY_SHELL_BYTES) {
      await unlink(path);
      log.info({ path, bytes: st.size }, 'removed a segment shell without media');
    } else {
      const dir = unreadableDir(root, cameraId);
      await mkdir(dir, { recursive: true });
      await rename(path, join(dir, path.split('/').pop()!));
      log.warn({ path, bytes: st.size }, 'unreadable recording moved aside');
    }
    return undefined;
  }
  const endMs = Math.round(st.mtimeMs);
  const startMs = startHint ?? endMs - p.durationMs;
  return fileSegment(index, root, cameraId, path, startMs, Math.max(endMs, startMs + p.durationMs), st.size);
}

/** Runs the recovery pass for one camera; returns the segments it indexed. */
export async function recoverCamera(
  index: SegmentIndex,
  root: string,
  cameraId: string,
  probe: Prober,
  now: number,
): Promise<Segment[]> {
  const out: Segment[] = [];
  const incoming = incomingDir(root, cameraId);
  await stopOrphanFfmpeg(incoming);
  for (const name of await listDir(incoming)) {
    const path = join(incoming, name);
    if (name.endsWith('.csv')) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (!name.endsWith('.mp4')) continue;
    try {
      const seg = await recoverFile(index, root, cameraId, path, probe, undefined);
      if (seg) out.push(seg);
    } catch (err) {
      log.error({ err, path }, 'recovery of a segment failed');
    }
  }
  const last = index.last(cameraId);
  const dirs = new Set([dayPath(root, cameraId, now)]);
  if (last) dirs.add(dayPath(root, cameraId, last.startMs));
  for (const dir of dirs) {
    for (const name of await listDir(dir)) {
      const parsed = parseSegmentFileName(name);
      if (!parsed || parsed.cameraId !== cameraId) continue;
      if (last && parsed.startMs <= last.startMs) continue;
      const path = join(dir, name);
      if (index.byPath(path)) continue;
      try {
        const seg = await recoverFile(index, root, cameraId, path, probe, parsed.startMs);
        if (seg) out.push(seg);
      } catch (err) {
        log.error({ err, path }, 'recovery of a segment failed');
      }
    }
  }
  return out;
}
