/**
 * Cuts a clip of one camera out of its closed recording segments: the
 * segments overlapping the range are joined by ffmpeg's concat demuxer and
 * copied (no transcoding) into one MP4 with its index in front, so a browser
 * can start playing it over HTTP range requests before it has all of it.
 */
import { stat, unlink, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CarewatchError } from '../../lib/errors.js';
import type { SegmentIndex } from '../recorder/segment-index.js';
import { runFfmpeg } from './ffmpeg-run.js';

export const MAX_CLIP_MS = 10 * 60_000;

export interface CutRequest {
  cameraId: string;
  fromMs: number;
  toMs: number;
  outPath: string;
}

export interface CutResult {
  /** What the clip really covers (the request clamped to the footage kept). */
  fromMs: number;
  toMs: number;
  segments: number;
  bytes: number;
}

/** One line of a concat list; single quotes in a path are closed, escaped and reopened. */
export const concatLine = (path: string): string => `file '${resolve(path).replaceAll("'", "'\\''")}'`;

export function buildCutArgs(
  listPath: string,
  offsetS: number,
  durationS: number,
  outPath: string,
): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-y',
    '-f',
    'concat',
    '-safe',
    '0',
    // input seeking: with stream copy the clip starts on the keyframe at or before the offset
    '-ss',
    offsetS.toFixed(3),
    '-i',
    listPath,
    '-t',
    durationS.toFixed(3),
    '-map',
    '0:v:0',
    '-map',
    '0:a?',
    '-c',
    'copy',
    '-avoid_negative_ts',
    'make_zero',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    outPath,
  ];
}

export async function cutClip(
  deps: { index: SegmentIndex; ffmpeg: string; timeoutMs?: number },
  req: CutRequest,
): Promise<CutResult> {
  if (!(req.toMs > req.fromMs)) {
    throw new CarewatchError('MEDIA_RANGE_INVALID', 'a clip must end after it starts', { ...req });
  }
  if (req.toMs - req.fromMs > MAX_CLIP_MS) {
    throw new CarewatchError(
      'MEDIA_RANGE_TOO_LONG',
      `a clip may cover at most ${MAX_CLIP_MS / 60_000} minutes; ask for several`,
    );
  }
  const segs = deps.index.range(req.cameraId, req.fromMs, req.toMs);
  if (segs.length === 0) {
    throw new CarewatchError(
      'MEDIA_NO_FOOTAGE',
      `camera ${req.cameraId} has no recorded footage between ${new Date(req.fromMs).toISOString()} and ${new Date(req.toMs).toISOString()}`,
    );
  }
  const first = segs[0]!;
  const last = segs[segs.length - 1]!;
  const fromMs = Math.max(req.fromMs, first.startMs);
  const toMs = Math.min(req.toMs, last.endMs);
  const listPath = `${req.outPath}.list.txt`;
  await writeFile(listPath, `${segs.map((s) => concatLine(s.path)).join('\n')}\n`);
  try {
    await runFfmpeg(
      deps.ffmpeg,
      buildCutArgs(listPath, (fromMs - first.startMs) / 1000, (toMs - fromMs) / 1000, req.outPath),
      deps.timeoutMs ?? 60_000,
    );
  } catch (err) {
    await unlink(req.outPath).catch(() => {});
    throw err;
  } finally {
    await unlink(listPath).catch(() => {});
  }
  const { size } = await stat(req.outPath);
  return { fromMs, toMs, segments: segs.length, bytes: size };
}
