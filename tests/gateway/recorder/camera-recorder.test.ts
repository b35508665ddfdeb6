/**
 * Real ffmpeg: a second ffmpeg publishes a live MPEG-TS test stream to a
 * loopback UDP port; the recorder records it in 1 s fragmented-MP4 segments.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CameraRecorder, type CameraRecorderOptions } from '../../../gateway/recorder/camera-recorder.js';
import type { RecorderEvent } from '../../../gateway/recorder/events.js';
import { parseSegmentFileName } from '../../../gateway/recorder/ffmpeg-args.js';
import { Recorder } from '../../../gateway/recorder/recorder.js';
import { SegmentIndex } from '../../../gateway/recorder/segment-index.js';
import { tempDir, until } from '../../helpers/procs.js';
import { alive, ffmpegAvailable, freeUdpPort, probe, type Source, startUdpSource } from './media.js';

const HAVE_FFMPEG = ffmpegAvailable();

/**
 * Consecutive segments of one run are contiguous. The first one is placed by
 * the time its file closed, which the input's start-up buffering can delay (a
 * burst of buffered frames is written at once): the recorder re-anchors on the
 * next segments, so the first may overlap its successor by that delay, never
 * by a whole segment (1 s here) and never leave a hole.
 */
function expectContiguous(segs: Array<{ startMs: number; endMs: number }>): void {
  expect(segs.length).toBeGreaterThanOrEqual(3);
  const firstStep = segs[1]!.startMs - segs[0]!.endMs;
  expect(firstStep).toBeLessThan(300);
  expect(firstStep).toBeGreaterThan(-1000);
  for (let i = 2; i < segs.length; i++)
    expect(Math.abs(segs[i]!.startMs - segs[i - 1]!.endMs)).toBeLessThan(300);
}

describe.skipIf(!HAVE_FFMPEG)('camera recorder with real ffmpeg', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(over: Partial<CameraRecorderOptions> = {}, inputUrl?: string) {
    const dir = tempDir('cw-rec-');
    const db = new Database(join(dir.path, 'gw.db'));
    db.pragma('journal_mode = WAL');
    const index = new SegmentIndex(db);
    const port = await freeUdpPort();
    const events: RecorderEvent[] = [];
    const rec = new CameraRecorder({
      camera: {
        cameraId: 'cam-1',
        inputUrl: inputUrl ?? `udp://127.0.0.1:${port}`,
        inputFormat: 'mpegts',
        segmentSeconds: 1,
        analyzeDurationMs: 1000,
      },
      rootDir: join(dir.path, 'rec'),
      index,
      onEvent: (e) => events.push(e),
      backoff: { initialMs: 200, maxMs: 1000 },
      ioTimeoutS: 2,
      stopTimeoutMs: 3000,
      pollMs: 100,
      ...over,
    });
    const sources: Source[] = [];
    cleanups.push(() => dir.cleanup());
    cleanups.push(() => {
      db.close();
    });
    cleanups.push(async () => {
      const pid = rec.status().pid;
      await rec.stop();
      if (alive(pid)) process.kill(pid!, 'SIGKILL');
    });
    cleanups.push(async () => {
      for (const s of sources) await s.stop();
    });
    const source = () => {
      const s = startUdpSource(port);
      sources.push(s);
      return s;
    };
    const of = <T extends RecorderEvent['type']>(type: T) =>
      events.filter((e): e is Extract<RecorderEvent, { type: T }> => e.type === type);
    return { dir, db, index, rec, events, of, source, root: join(dir.path, 'rec') };
  }

  it('records closed segments into day directories, indexes them, and ffprobe reads them; stop finalizes', async () => {
    const t = await setup();
    await t.rec.start();
    t.source();
    await until(async () => t.of('segment_indexed').length >= 3, 20_000);
    const started = t.of('recording_started')[0]!;
    expect(alive(started.pid)).toBe(true);
    expect(t.of('camera_online')).toHaveLength(1);
    await t.rec.stop();
    expect(alive(started.pid)).toBe(false);
    const segs = t.index.range('cam-1', 0, Date.now() + 60_000);
    expect(segs.length).toBe(t.of('segment_indexed').length);
    for (const s of segs) {
      expect(existsSync(s.path)).toBe(true);
      expect(s.path).toMatch(/\/cam-1\/\d{4}-\d{2}-\d{2}\/cam-1_\d{8}T\d{6}\.\d{3}Z\.mp4$/);
      expect(parseSegmentFileName(s.path.split('/').pop()!)!.startMs).toBe(s.startMs);
      expect(s.bytes).toBeGreaterThan(1000);
      const p = probe(s.path);
      expect(p, s.path).toBeDefined();
      // the index (ffmpeg's segment list) and the file agree to within about one GOP (8 frames at
      // 15 fps = 533 ms): under load the UDP source drops frames at segment edges
      expect(Math.abs(p!.duration * 1000 - (s.endMs - s.startMs))).toBeLessThan(600);
    }
    expectContiguous(segs);
    // graceful stop: nothing left in incoming but the directory itself
    expect(readdirSync(join(t.root, 'cam-1', 'incoming')).filter((n) => n.endsWith('.mp4'))).toEqual([]);
    expect(t.of('recording_exited').at(-1)!.signal ?? 'exit').not.toBe('SIGKILL');
  });

  it('notices closed segments through the watch on the segment list, not the poll', async () => {
    // a poll of a minute would index nothing in this test's 20 s: every segment here came by the watch
    const t = await setup({ pollMs: 60_000 });
    await t.rec.start();
    t.source();
    await until(async () => t.of('segment_indexed').length >= 3, 20_000);
    expectContiguous(t.of('segment_indexed').map((e) => e.segment));
  });

  it('after SIGKILL of ffmpeg mid-segment, the partial fragmented MP4 is playable, recovered into the index, and recording resumes', async () => {
    const t = await setup();
    await t.rec.start();
    t.source();
    await until(async () => t.of('segment_indexed').length >= 2, 20_000);
    const first = t.of('recording_started')[0]!;
    // kill 0.7 s into a segment: at least one 0.5 s GOP fragment has been flushed
    const n = t.of('segment_indexed').length;
    await until(async () => t.of('segment_indexed').length > n, 5000, 20);
    await new Promise((r) => setTimeout(r, 700));
    const incoming = join(t.root, 'cam-1', 'incoming');
    const partial = readdirSync(incoming).filter((f) => f.endsWith('.mp4'));
    expect(partial).toHaveLength(1);
    process.kill(first.pid!, 'SIGKILL');
    await until(async () => t.of('recording_started').length >= 2, 10_000);
    const recovered = t.of('segment_indexed').filter((e) => e.recovered);
    expect(recovered).toHaveLength(1);
    const p = probe(recovered[0]!.segment.path);
    expect(p).toBeDefined();
    expect(p!.packets).toBeGreaterThanOrEqual(8);
    expect(t.of('recording_exited')[0]!.signal).toBe('SIGKILL');
    const after = t.of('segment_indexed').length;
    await until(async () => t.of('segment_indexed').filter((e) => !e.recovered).length > after, 20_000);
    expect(alive(t.of('recording_started')[1]!.pid)).toBe(true);
  });

  it('reports recording_stalled when the source stops and recording_resumed with a gap row when it returns', async () => {
    const t = await setup();
    await t.rec.start();
    const src = t.source();
    await until(async () => t.of('segment_indexed').length >= 2, 20_000);
    // under load the start can already stall once (no segment within 2 s of spawning ffmpeg): only
    // what follows the source's stop counts here
    const stallsBefore = t.of('recording_stalled').length;
    const resumesBefore = t.of('recording_resumed').length;
    const stoppedAt = Date.now();
    await src.stop();
    const stall = (await until(async () => t.of('recording_stalled')[stallsBefore], 15_000))!;
    // no closed segment for 2 × 1 s: the last one closed at most one segment before the source stopped
    expect(stall.at - stoppedAt).toBeGreaterThanOrEqual(900);
    expect(stall.at - stall.since).toBeGreaterThanOrEqual(1800);
    expect(t.of('recording_resumed')).toHaveLength(resumesBefore);
    t.source();
    const resumed = (await until(async () => t.of('recording_resumed')[resumesBefore], 20_000))!;
    expect(resumed.since).toBeGreaterThanOrEqual(stall.since);
    expect(resumed.at).toBeGreaterThan(stall.at);
    expect(resumed.gapMs).toBeGreaterThan(1000);
    const gaps = t.index.gaps('cam-1', 0, Date.now() + 60_000);
    expect(gaps.map((g) => g.reason)).toContain('stall');
    const c = t.index.continuity('cam-1', stall.since - 2000, Date.now() - 2000, 500);
    expect(c.gaps.some((g) => g.reason === 'stall')).toBe(true);
  });

  it('reports camera_offline when ffmpeg cannot connect repeatedly, and never crashes', async () => {
    const dead = `tcp://127.0.0.1:${await freeUdpPort()}`; // nothing listens there
    const t = await setup({ offlineAfterFailures: 3 }, dead);
    await t.rec.start();
    const off = (await until(async () => t.of('camera_offline')[0], 15_000))!;
    expect(off.reason).toMatch(/refused|error|exited/i);
    expect(t.of('recording_exited').length).toBeGreaterThanOrEqual(3);
    expect(t.of('camera_offline')).toHaveLength(1);
  });

  it('reports a missing ffmpeg binary as FFMPEG_NOT_FOUND instead of crashing', async () => {
    const t = await setup({ ffmpeg: '/nonexistent/bin/ffmpeg' });
    await t.rec.start();
    const err = (await until(async () => t.of('recorder_error')[0], 5000))!;
    expect(err.code).toBe('FFMPEG_NOT_FOUND');
    expect(err.message).toMatch(/CAREWATCH_FFMPEG/);
    await new Promise((r) => setTimeout(r, 1500));
    expect(t.of('recorder_error')).toHaveLength(1); // once per episode, retried quietly
    await t.rec.stop();
  });

  it('reports an unwritable recording directory as RECORDING_DIR_UNWRITABLE', async () => {
    const t = await setup();
    const blocker = join(t.dir.path, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const rec = new CameraRecorder({
      camera: { cameraId: 'cam-9', inputUrl: 'udp://127.0.0.1:9' },
      rootDir: join(blocker, 'rec'),
      index: t.index,
      onEvent: (e) => t.events.push(e),
    });
    await rec.start();
    const err = t.of('recorder_error')[0]!;
    expect(err.code).toBe('RECORDING_DIR_UNWRITABLE');
    expect(err.message).toContain(blocker);
    expect(rec.status().pid).toBeUndefined();
    await rec.stop();
  });

  it('the Recorder manager starts and stops several cameras and refuses duplicate ids', async () => {
    const t = await setup();
    const port2 = await freeUdpPort();
    const events: RecorderEvent[] = [];
    const cam = (id: string, port: number) => ({
      cameraId: id,
      inputUrl: `udp://127.0.0.1:${port}`,
      inputFormat: 'mpegts',
      segmentSeconds: 1,
      analyzeDurationMs: 1000,
    });
    const dup = new Recorder({
      rootDir: t.root,
      index: t.index,
      onEvent: () => {},
      cameras: [cam('a', 1), cam('a', 2)],
    });
    await expect(dup.start()).rejects.toThrow(/configured twice/);
    const r = new Recorder({
      rootDir: t.root,
      index: t.index,
      onEvent: (e) => events.push(e),
      cameras: [cam('a', await freeUdpPort()), cam('b', port2)],
      ioTimeoutS: 2,
    });
    cleanups.push(() => r.stop());
    await r.start();
    const b = startUdpSource(port2);
    cleanups.push(() => b.stop());
    await until(async () => events.some((e) => e.type === 'segment_indexed' && e.cameraId === 'b'), 20_000);
    const pids = r.status().map((s) => s.pid);
    expect(pids.every((p) => alive(p))).toBe(true);
    await r.pauseCamera('b');
    expect(r.camera('b')!.status().running).toBe(false);
    await r.stop();
    expect(pids.some((p) => alive(p))).toBe(false);
  });
});
