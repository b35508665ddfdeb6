/**
 * One supervised ffmpeg process per camera.
 *
 * - Before every run (start and each restart) the recovery pass indexes what
 *   a previous run left in `incoming/` (e.g. the fragmented-MP4 segment that
 *   was being written when ffmpeg was SIGKILLed, which stays playable).
 * - ffmpeg appends one CSV line per closed segment to the run's list file; the
 *   recorder tails it, stats each closed segment, files it under its day
 *   directory and indexes it. Wall-clock times come from the segment's media
 *   times anchored to the moment its line was read.
 * - When ffmpeg exits it is restarted with exponential backoff (capped); the
 *   backoff resets once a run produces a segment.
 * - Stall: no closed segment for 2 × the segment length → `recording_stalled`;
 *   the next segment → `recording_resumed` and a gap row for the hole.
 * - `offlineAfterFailures` runs in a row without a segment → `camera_offline`;
 *   the next segment → `camera_online`.
 * - ffmpeg missing (ENOENT) and an unwritable directory are reported as coded
 *   `recorder_error` events (once per episode) and retried at the backoff cap.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type FSWatcher, watch } from 'node:fs';
import { type FileHandle, open, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, systemClock } from '../../lib/clock.js';
import { errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import type { RecorderErrorCode, RecorderEventHandler } from './events.js';
import {
  buildRecordArgs,
  ffmpegPath,
  ffprobePath,
  inputScript,
  type RtspTransport,
  redactCredentials,
} from './ffmpeg-args.js';
import { ensureWritableDir, fileSegment, incomingDir } from './layout.js';
import { ffprobeProber, type Prober } from './probe.js';
import { PID_FILE, recoverCamera } from './recovery.js';
import type { SegmentIndex } from './segment-index.js';
import { type ListEntry, parseListLine } from './segment-list.js';

const log = logger('gateway:recorder');
/**
 * While a list is watched, the poll still reads it every this many ticks (with
 * the default tick of half a segment: every two segments), so a watch event
 * that never came costs a delay, not a lost segment.
 */
const SAFETY_READ_EVERY_TICKS = 4;

export interface CameraRecordingConfig {
  cameraId: string;
  /** Main stream (the RTSP URL from the camera adapter, or any live ffmpeg input). */
  inputUrl: string;
  /** Lower-bitrate stream used by the `reduce_to_substream` degradation. */
  substreamUrl?: string;
  transport?: RtspTransport;
  inputFormat?: string;
  audio?: boolean;
  /** Segment length in seconds (default 10). */
  segmentSeconds?: number;
  analyzeDurationMs?: number;
  fragmentMs?: number;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export interface CameraRecorderOptions {
  camera: CameraRecordingConfig;
  rootDir: string;
  index: SegmentIndex;
  onEvent: RecorderEventHandler;
  clock?: Clock;
  ffmpeg?: string;
  ffmpegMajor?: number;
  probe?: Prober;
  backoff?: Partial<BackoffOptions>;
  /** Runs in a row that end without a segment before `camera_offline` (default 3). */
  offlineAfterFailures?: number;
  /** Grace after SIGINT before SIGKILL on stop (default 5000 ms). */
  stopTimeoutMs?: number;
  /** ffmpeg exits after this long without input (default 10 s). */
  ioTimeoutS?: number;
  /**
   * How often the segment list is polled and the stall check runs (default
   * segment/2, 100 ms to 5 s). A closed segment is normally noticed at once
   * through a watch on the list file (inotify); the poll is the fallback.
   */
  pollMs?: number;
  /** Watch the segment list file for new lines (default true). */
  watchList?: boolean;
}

export interface CameraRecorderStatus {
  cameraId: string;
  running: boolean;
  pid: number | undefined;
  online: boolean | undefined;
  stalled: boolean;
  substream: boolean;
  lastSegmentEndMs: number | undefined;
  restarts: number;
}

interface Run {
  child: ChildProcess;
  listPath: string;
  offset: number;
  partial: string;
  anchor: number | undefined;
  segments: number;
  stderr: string;
  exited: Promise<void>;
  /** Watch on the list file, once ffmpeg has created it. */
  watcher: FSWatcher | undefined;
  /** A read of the list is queued and has not started yet. */
  readQueued: boolean;
  /** The list file, open for the whole run once it exists (closed at the run's end). */
  list: FileHandle | undefined;
}

export class CameraRecorder {
  private run: Run | undefined;
  private active = false;
  private queue: Promise<void> = Promise.resolve();
  private restartTimer: { cancel(): void } | undefined;
  private tickTimer: { cancel(): void } | undefined;
  private failures = 0;
  private restarts = 0;
  private online: boolean | undefined;
  private stalled = false;
  private stalledAt = 0;
  private substream = false;
  private lastEnd: number | undefined;
  private lastProgressAt = 0;
  private reported = new Set<RecorderErrorCode>();
  private lifecycle: Promise<void> = Promise.resolve();
  /** Read buffer for the segment list (reads are serialized by the queue). */
  private readonly listBuf = Buffer.allocUnsafe(16 * 1024);

  constructor(private readonly o: CameraRecorderOptions) {}

  get cameraId(): string {
    return this.o.camera.cameraId;
  }

  private get clock(): Clock {
    return this.o.clock ?? systemClock;
  }

  private get segmentMs(): number {
    return (this.o.camera.segmentSeconds ?? 10) * 1000;
  }

  status(): CameraRecorderStatus {
    return {
      cameraId: this.cameraId,
      running: this.active,
      pid: this.run?.child.pid,
      online: this.online,
      stalled: this.stalled,
      substream: this.substream,
      lastSegmentEndMs: this.lastEnd,
      restarts: this.restarts,
    };
  }

  /** Recovers what previous runs left, then starts recording (idempotent). */
  start(): Promise<void> {
    this.lifecycle = this.lifecycle.then(async () => {
      if (this.active) return;
      this.active = true;
      this.lastEnd = this.o.index.last(this.cameraId)?.endMs;
      this.lastProgressAt = this.clock.now();
      this.stalled = false;
      this.scheduleTick();
      await this.spawnRun();
    });
    return this.lifecycle;
  }

  /** Stops recording: SIGINT so ffmpeg finalizes its segment, SIGKILL after the grace period. */
  stop(): Promise<void> {
    this.lifecycle = this.lifecycle.then(async () => {
      if (!this.active) return;
      this.active = false;
      this.restartTimer?.cancel();
      this.tickTimer?.cancel();
      await this.terminateRun();
      await this.queue;
    });
    return this.lifecycle;
  }

  /** Switches between main stream and substream (restarts ffmpeg); false when there is no substream. */
  async useSubstream(on: boolean): Promise<boolean> {
    if (on && !this.o.camera.substreamUrl) return false;
    if (this.substream === on) return true;
    this.substream = on;
    if (this.active) {
      await this.stop();
      await this.start();
    }
    return true;
  }

  private emitError(code: RecorderErrorCode, message: string): void {
    if (this.reported.has(code)) return;
    this.reported.add(code);
    log.error({ cameraId: this.cameraId, code }, message);
    this.o.onEvent({ type: 'recorder_error', cameraId: this.cameraId, code, message, at: this.clock.now() });
  }

  private backoffMs(): number {
    const b = { initialMs: 1000, maxMs: 30_000, factor: 2, ...this.o.backoff };
    return Math.min(b.maxMs, b.initialMs * b.factor ** Math.max(0, this.failures - 1));
  }

  private scheduleRestart(delayMs: number): void {
    if (!this.active) return;
    this.restartTimer?.cancel();
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.active && !this.run) void this.spawnRun();
    }, delayMs);
  }

  private async spawnRun(): Promise<void> {
    const cam = this.o.camera;
    const root = this.o.rootDir;
    const incoming = incomingDir(root, cam.cameraId);
    try {
      await ensureWritableDir(incoming);
      this.reported.delete('RECORDING_DIR_UNWRITABLE');
    } catch (err) {
      this.failures++;
      this.emitError(
        'RECORDING_DIR_UNWRITABLE',
        `camera ${cam.cameraId}: recording directory ${incoming} is not writable: ${errorMessage(err)}`,
      );
      return this.scheduleRestart(this.o.backoff?.maxMs ?? 30_000);
    }
    const probe = this.o.probe ?? ffprobeProber(ffprobePath());
    try {
      for (const seg of await recoverCamera(this.o.index, root, cam.cameraId, probe, this.clock.now())) {
        this.o.onEvent({ type: 'segment_indexed', cameraId: cam.cameraId, segment: seg, recovered: true });
        if (this.lastEnd === undefined || seg.endMs > this.lastEnd) this.lastEnd = seg.endMs;
      }
    } catch (err) {
      log.error({ err, cameraId: cam.cameraId }, 'recovery pass failed');
    }
    if (!this.active) return;
    const runId = String(this.clock.now());
    const listPath = join(incoming, `run-${runId}.csv`);
    const recordOptions = {
      cameraId: cam.cameraId,
      inputUrl: this.substream && cam.substreamUrl ? cam.substreamUrl : cam.inputUrl,
      outputDir: incoming,
      runId,
      segmentListPath: listPath,
      segmentSeconds: cam.segmentSeconds ?? 10,
      transport: cam.transport,
      audio: cam.audio,
      inputFormat: cam.inputFormat,
      analyzeDurationMs: cam.analyzeDurationMs,
      fragmentMs: cam.fragmentMs,
      ioTimeoutS: this.o.ioTimeoutS,
      ffmpegMajor: this.o.ffmpegMajor,
      inputScriptPath: join(incoming, `run-${runId}.ffconcat`),
    };
    // a URL with credentials goes to ffmpeg in a file only this user reads, not on its command line
    const script = inputScript(recordOptions);
    if (script !== null) {
      await removeInputScripts(incoming);
      await writeFile(recordOptions.inputScriptPath, script, { mode: 0o600 });
    }
    const args = buildRecordArgs(recordOptions);
    const bin = this.o.ffmpeg ?? ffmpegPath();
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let resolveExit!: () => void;
    const run: Run = {
      child,
      listPath,
      offset: 0,
      partial: '',
      anchor: undefined,
      segments: 0,
      stderr: '',
      exited: new Promise((r) => (resolveExit = r)),
      watcher: undefined,
      readQueued: false,
      list: undefined,
    };
    this.run = run;
    child.stderr!.on('data', (d: Buffer) => {
      // ffmpeg's errors repeat the input URL: its password never goes further than this
      run.stderr = redactCredentials(run.stderr + d.toString()).slice(-4000);
    });
    let ended = false;
    const end = (code: number | null, signal: string | null, spawnErr?: NodeJS.ErrnoException) => {
      if (ended) return;
      ended = true;
      this.enqueue(() => this.onRunEnd(run, code, signal, spawnErr)).finally(resolveExit);
    };
    child.on('error', (err: NodeJS.ErrnoException) => end(null, null, err));
    child.on('exit', (code, signal) => end(code, signal));
    if (child.pid !== undefined) {
      this.reported.delete('FFMPEG_NOT_FOUND');
      this.reported.delete('FFMPEG_SPAWN_FAILED');
      await writeFile(join(incoming, PID_FILE), String(child.pid)).catch(() => undefined);
      this.o.onEvent({
        type: 'recording_started',
        cameraId: cam.cameraId,
        at: this.clock.now(),
        pid: child.pid,
      });
      log.info({ cameraId: cam.cameraId, pid: child.pid }, 'recording started');
    }
  }

  private async onRunEnd(
    run: Run,
    code: number | null,
    signal: string | null,
    spawnErr?: NodeJS.ErrnoException,
  ) {
    run.watcher?.close();
    run.watcher = undefined;
    await this.readList(run);
    await run.list?.close().catch(() => undefined);
    run.list = undefined;
    await unlink(run.listPath).catch(() => undefined);
    await removeInputScripts(incomingDir(this.o.rootDir, this.cameraId));
    await unlink(join(incomingDir(this.o.rootDir, this.cameraId), PID_FILE)).catch(() => undefined);
    if (this.run === run) this.run = undefined;
    if (spawnErr) {
      this.failures++;
      const missing = spawnErr.code === 'ENOENT';
      this.emitError(
        missing ? 'FFMPEG_NOT_FOUND' : 'FFMPEG_SPAWN_FAILED',
        missing
          ? `ffmpeg not found (${this.o.ffmpeg ?? ffmpegPath()}): install ffmpeg or set CAREWATCH_FFMPEG`
          : `cannot start ffmpeg: ${spawnErr.message}`,
      );
      return this.scheduleRestart(this.o.backoff?.maxMs ?? 30_000);
    }
    const at = this.clock.now();
    this.o.onEvent({
      type: 'recording_exited',
      cameraId: this.cameraId,
      at,
      code,
      signal,
      stderr: run.stderr,
    });
    if (!this.active) return;
    this.restarts++;
    if (run.segments === 0) this.failures++;
    else this.failures = 0;
    const limit = this.o.offlineAfterFailures ?? 3;
    if (run.segments === 0 && this.failures >= limit && this.online !== false) {
      this.online = false;
      const reason = run.stderr.trim().split('\n').pop() || `ffmpeg exited (${code ?? signal})`;
      this.o.onEvent({
        type: 'camera_offline',
        cameraId: this.cameraId,
        since: this.lastEnd ?? at,
        at,
        reason,
      });
    }
    log.warn({ cameraId: this.cameraId, code, signal, failures: this.failures }, 'ffmpeg exited; restarting');
    this.scheduleRestart(this.backoffMs());
  }

  /** Serializes list reading and run-end handling; a failing step never blocks the next. */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(fn).catch((err: unknown) => {
      log.error({ err, cameraId: this.cameraId }, 'recorder step failed');
    });
    return this.queue;
  }

  private async terminateRun(): Promise<void> {
    const run = this.run;
    if (!run) return;
    const child = run.child;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), this.o.stopTimeoutMs ?? 5000);
      await run.exited;
      clearTimeout(t);
    } else {
      await run.exited;
    }
  }

  /** Ticks while the list was watched, for the safety-net read. */
  private ticksWatched = 0;

  private scheduleTick(): void {
    const every = this.o.pollMs ?? Math.max(100, Math.min(5000, this.segmentMs / 2));
    // until a run's list file exists and is watched, look for it every 250 ms
    const soon = this.o.watchList !== false && !this.run?.watcher;
    this.tickTimer = this.clock.setTimeout(
      () => {
        if (!this.active) return;
        this.tick();
        this.scheduleTick();
      },
      soon ? Math.min(every, 250) : every,
    );
  }

  private tick(): void {
    const run = this.run;
    if (run) {
      // with a watch on the list the poll is only its safety net: a read every few ticks
      if (!run.watcher || ++this.ticksWatched % SAFETY_READ_EVERY_TICKS === 0) this.queueRead(run);
      if (!run.watcher && this.o.watchList !== false) this.watchRun(run);
    }
    const now = this.clock.now();
    if (!this.stalled && now - this.lastProgressAt > 2 * this.segmentMs) {
      this.stalled = true;
      this.stalledAt = now;
      const since = this.lastEnd ?? this.lastProgressAt;
      log.warn({ cameraId: this.cameraId, since }, 'recording stalled');
      this.o.onEvent({ type: 'recording_stalled', cameraId: this.cameraId, since, at: now });
    }
  }

  /** One read of the list at a time in the queue: a burst of watch events costs one read. */
  private queueRead(run: Run): void {
    if (run.readQueued) return;
    run.readQueued = true;
    void this.enqueue(() => this.readList(run));
  }

  /** Watches the list file (it exists once ffmpeg has opened its first segment). */
  private watchRun(run: Run): void {
    try {
      const w = watch(run.listPath, { persistent: false }, () => {
        if (this.run === run) this.queueRead(run);
      });
      w.on('error', () => {
        w.close();
        if (run.watcher === w) run.watcher = undefined;
      });
      run.watcher = w;
    } catch {
      // not created yet (or no inotify): the poll reads it, the next tick tries again
    }
  }

  /** Reads new complete lines of the run's segment list and files each closed segment. */
  private async readList(run: Run): Promise<void> {
    run.readQueued = false;
    let chunk = '';
    try {
      run.list ??= await open(run.listPath, 'r');
      const buf = this.listBuf;
      for (;;) {
        const { bytesRead } = await run.list.read(buf, 0, buf.length, run.offset);
        run.offset += bytesRead;
        chunk += buf.toString('utf8', 0, bytesRead);
        // a short read reached the end: no second read to learn it
        if (bytesRead < buf.length) break;
      }
    } catch {
      return; // not created yet
    }
    const text = run.partial + chunk;
    const lines = text.split('\n');
    run.partial = lines.pop() ?? '';
    const entries = lines.map(parseListLine).filter((e): e is ListEntry => e !== undefined);
    if (!entries.length) return;
    const last = entries[entries.length - 1]!;
    const lastPath = join(incomingDir(this.o.rootDir, this.cameraId), last.name);
    const lastStat = await stat(lastPath).catch(() => undefined);
    const ref = this.closedAt(lastStat);
    const lastRel = last.endS * 1000;
    // A segment cannot end after it was closed; media time running late by more than a segment
    // (or 2 s) re-anchors too.
    const predicted = run.anchor === undefined ? undefined : run.anchor + lastRel;
    let anchor = run.anchor;
    if (
      anchor === undefined ||
      predicted === undefined ||
      predicted > ref ||
      ref - predicted > Math.max(2000, this.segmentMs)
    ) {
      anchor = ref - lastRel;
      run.anchor = anchor;
    }
    for (const e of entries) await this.onClosed(run, e, anchor, e === last ? lastStat?.size : undefined);
  }

  /**
   * When the last listed segment was closed, on the recorder's clock: its file's
   * last write (ffmpeg writes the final fragment as it closes the segment, just
   * before the list line), which a watch event or read that comes late does not
   * shift; the time of the read when that is unknown or not plausible (a clock
   * that is not the file system's, as in tests with a manual clock).
   */
  private closedAt(st: { mtimeMs: number } | undefined): number {
    const now = this.clock.now();
    if (st && st.mtimeMs <= now && now - st.mtimeMs < 2 * this.segmentMs) return st.mtimeMs;
    return now;
  }

  private async onClosed(run: Run, e: ListEntry, anchor: number, knownBytes?: number): Promise<void> {
    const path = join(incomingDir(this.o.rootDir, this.cameraId), e.name);
    const endMs = Math.round(anchor + e.endS * 1000);
    const startMs = Math.round(endMs - (e.endS - e.startS) * 1000);
    try {
      const bytes = knownBytes ?? (await stat(path)).size;
      const seg = await fileSegment(this.o.index, this.o.rootDir, this.cameraId, path, startMs, endMs, bytes);
      if (!seg) return;
      run.segments++;
      this.onProgress(seg.startMs, seg.endMs);
      this.o.onEvent({ type: 'segment_indexed', cameraId: this.cameraId, segment: seg, recovered: false });
    } catch (err) {
      this.emitError(
        'SEGMENT_INDEX_FAILED',
        `camera ${this.cameraId}: cannot index ${path}: ${errorMessage(err)}`,
      );
      this.reported.delete('SEGMENT_INDEX_FAILED');
    }
  }

  private onProgress(startMs: number, endMs: number): void {
    const now = this.clock.now();
    const prevEnd = this.lastEnd;
    const tolerance = Math.max(1000, this.segmentMs / 2);
    if (prevEnd !== undefined && startMs - prevEnd > tolerance) {
      const reason = this.stalled ? 'stall' : this.restarts > 0 ? 'ffmpeg_restart' : 'recorder_down';
      this.o.index.addGap({ cameraId: this.cameraId, fromMs: prevEnd, toMs: startMs, reason });
    }
    // A segment closed late (e.g. finalized when ffmpeg gave up on a dead input) covers time
    // before the stall was declared: it is not a resumption.
    if (this.stalled && endMs >= this.stalledAt) {
      this.stalled = false;
      const since = prevEnd ?? this.lastProgressAt;
      this.o.onEvent({
        type: 'recording_resumed',
        cameraId: this.cameraId,
        since,
        at: now,
        gapMs: Math.max(0, startMs - since),
      });
    }
    if (this.online !== true) {
      this.online = true;
      this.o.onEvent({ type: 'camera_online', cameraId: this.cameraId, at: now });
    }
    this.failures = 0;
    this.lastProgressAt = now;
    if (prevEnd === undefined || endMs > prevEnd) this.lastEnd = endMs;
  }
}

/** Removes the input scripts (URLs with credentials) of runs that ended, or of a gateway that was killed. */
async function removeInputScripts(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names)
    if (name.endsWith('.ffconcat')) await unlink(join(dir, name)).catch(() => undefined);
}
