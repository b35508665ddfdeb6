/** Interfaces the sweeper depends on, so tests can inject a fake index, file system and disk. */
import { constants, statfsSync } from 'node:fs';
import { access, readdir, stat, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Gap, NewSegment, Segment } from '../recorder/segment-index.js';

/** The part of `SegmentIndex` the sweeper uses. */
export interface SweepIndex {
  cameras(): string[];
  expired(cameraId: string, cutoffMs: number, limit: number): Segment[];
  remove(id: number): void;
  /** Deletes these rows in one transaction. */
  removeMany(ids: number[]): void;
  removeWithGap(seg: Segment, reason: string): void;
  add(seg: NewSegment): Segment | undefined;
  byPath(path: string): Segment | undefined;
  page(afterId: number, limit: number): Segment[];
  totals(cameraId?: string): { segments: number; bytes: number };
  bytesPerDay(cameraId: string, days: number, nowMs: number): number;
  bytesBetween(cameraId: string, fromMs: number, toMs: number): number;
  oldest(cameraId: string): Segment | undefined;
  addGap(gap: Gap): void;
  dropGapsBefore(beforeMs: number): number;
}

export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

export type DiskProbe = () => Promise<DiskSpace>;

/** A recording file found on disk by the reconciliation walk. */
export interface FoundFile {
  path: string;
  cameraId: string;
  name: string;
  mtimeMs: number;
  bytes: number;
}

export interface SweeperFs {
  /** Removes a file; resolves when it is gone (ENOENT counts as gone). */
  unlink(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Every `{root}/{cameraId}/{YYYY-MM-DD}/*.mp4` (not `incoming/`, not `unreadable/`). */
  walk(root: string): AsyncIterable<FoundFile>;
}

/** Free space of the file system holding `dir` (`fs.statfs`). */
export function statfsProbe(dir: string): DiskProbe {
  return async () => {
    const s = await statfs(dir);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  };
}

/**
 * Free and total bytes of the file system holding `dir`, read now
 * (`fs.statfsSync`); undefined when it cannot be read or makes no sense.
 */
export function diskSpaceNow(dir: string): DiskSpace | undefined {
  try {
    const s = statfsSync(dir);
    const d = { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    const sane =
      Number.isSafeInteger(d.freeBytes) &&
      Number.isSafeInteger(d.totalBytes) &&
      d.freeBytes >= 0 &&
      d.totalBytes > 0 &&
      d.freeBytes <= d.totalBytes;
    return sane ? d : undefined;
  } catch {
    return undefined;
  }
}

const isDay = (n: string) => /^\d{4}-\d{2}-\d{2}$/.test(n);

async function dirents(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

export const nodeFs: SweeperFs = {
  async unlink(path) {
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  },
  async exists(path) {
    try {
      await access(path, constants.F_OK);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err; // EACCES, EIO…: unknown is not "missing"
    }
  },
  async *walk(root) {
    for (const cameraId of await dirents(root)) {
      for (const day of await dirents(join(root, cameraId))) {
        if (!isDay(day)) continue;
        for (const name of await dirents(join(root, cameraId, day))) {
          if (!name.endsWith('.mp4')) continue;
          const path = join(root, cameraId, day, name);
          try {
            const st = await stat(path);
            if (st.isFile()) yield { path, cameraId, name, mtimeMs: st.mtimeMs, bytes: st.size };
          } catch {
            // vanished meanwhile
          }
        }
      }
    }
  },
};
