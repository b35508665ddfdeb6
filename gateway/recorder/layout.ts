/**
 * On-disk layout of recordings:
 *
 *   {root}/{cameraId}/incoming/            ffmpeg writes open segments and its run's CSV list here;
 *                                          anything left here is not indexed yet
 *   {root}/{cameraId}/{YYYY-MM-DD}/        closed, indexed segments, `{cameraId}_{startUTC}.mp4`
 *   {root}/{cameraId}/unreadable/          files found at recovery that ffprobe cannot read
 *
 * Filing a closed segment renames it into its day directory first and then
 * indexes it: a crash in between leaves a file without a row in a day
 * directory, which the recovery pass and the sweeper's reconciliation index.
 */
import { constants } from 'node:fs';
import { access, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dayDir, segmentFileName } from './ffmpeg-args.js';
import type { Segment, SegmentIndex } from './segment-index.js';

export const cameraDir = (root: string, cameraId: string): string => join(root, cameraId);
export const incomingDir = (root: string, cameraId: string): string => join(root, cameraId, 'incoming');
export const unreadableDir = (root: string, cameraId: string): string => join(root, cameraId, 'unreadable');
export const dayPath = (root: string, cameraId: string, ms: number): string =>
  join(root, cameraId, dayDir(ms));

export const isDayDirName = (name: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(name);

/** Creates a directory and proves it writable by writing a probe file; throws the fs error. */
export async function ensureWritableDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await access(dir, constants.W_OK);
  const probe = join(dir, `.write-test-${process.pid}`);
  await writeFile(probe, '');
  await unlink(probe);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Renames into a day directory, creating the directory only when the rename
 * says it is missing (once per camera and day, not once per segment). A source
 * that is gone still fails with ENOENT after the directory exists.
 */
async function renameIntoDir(from: string, to: string, dir: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    await rename(from, to);
  }
}

/** Moves a closed segment to its final name and indexes it. Returns the indexed row. */
export async function fileSegment(
  index: SegmentIndex,
  root: string,
  cameraId: string,
  currentPath: string,
  startMs: number,
  endMs: number,
  bytes: number,
): Promise<Segment | undefined> {
  const dir = dayPath(root, cameraId, startMs);
  let target = join(dir, segmentFileName(cameraId, startMs));
  for (let n = 1; (await exists(target)) && target !== currentPath; n++) {
    target = join(dir, segmentFileName(cameraId, startMs, n));
  }
  if (target !== currentPath) await renameIntoDir(currentPath, target, dir);
  // Already indexed (e.g. by the sweeper's reconciliation between rename and insert): the existing row.
  return (
    index.add({ cameraId, path: target, startMs, endMs: Math.max(endMs, startMs), bytes }) ??
    index.byPath(target)
  );
}
