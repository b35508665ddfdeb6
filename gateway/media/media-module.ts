/**
 * Media at the gateway: event clips around emergency calls and fire alarms
 * of the devices a camera covers, snapshots and clips on request from the
 * central, and the listing of recorded footage. Footage stays at the site;
 * clips and snapshots are uploaded to the central through a durable queue
 * (gateway/media/jobs.ts) that retries until the central has them.
 */
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CarewatchError } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import { type Envelope, mintId } from '../../protocol/index.js';
import type { CommandRouter } from '../commands.js';
import type { CamerasConfig } from '../config.js';
import type { Outbox } from '../outbox.js';
import { ffmpegPath } from '../recorder/ffmpeg-args.js';
import { type Db, migrate as migrateSegments, SegmentIndex } from '../recorder/segment-index.js';
import { cutClip } from './cut.js';
import { type MediaJob, MediaJobs } from './jobs.js';
import { type SnapshotSource, takeSnapshot } from './snapshot.js';
import { recordingSpans } from './spans.js';
import { UploadError, type UploadTarget, uploadMedia } from './upload.js';

const log = logger('gateway:media');

const MAX_ATTEMPTS_CUT = 5;
const MAX_BACKOFF_MS = 5 * 60_000;

export interface ResolvedSource {
  streamUrl: string;
  snapshotUri?: string;
  username?: string;
  password?: string;
  transport?: 'tcp' | 'udp';
}

/** Which stored events get an event clip: a call pressed, a fire alarm raised. */
export function wantsClip(env: Envelope): boolean {
  const d = env.data as { action?: string; category?: string; qualifier?: string };
  if (env.kind === 'emergency_call') return d.action === 'pressed';
  if (env.kind === 'panel_alarm') return d.category === 'fire' && d.qualifier === 'new';
  return false;
}

export class MediaModule {
  private jobs!: MediaJobs;
  private index!: SegmentIndex;
  private dir = '';
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private offEvent: (() => void) | undefined;
  private readonly waiters = new Map<string, Array<(err: Error | null) => void>>();

  constructor(
    private readonly deps: {
      config: CamerasConfig;
      dataDir: string;
      db: Db;
      outbox: Outbox;
      commands: CommandRouter;
      metrics: Metrics;
      /** Where uploads go; undefined: media are kept queued until the configuration names the central's HTTP URL. */
      upload: UploadTarget | undefined;
      /** The stream and snapshot of a camera (ONVIF-resolved or configured). */
      source: (cameraId: string) => ResolvedSource | undefined;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  async start(): Promise<void> {
    this.dir = join(this.deps.dataDir, 'media');
    await mkdir(this.dir, { recursive: true });
    migrateSegments(this.deps.db);
    this.index = new SegmentIndex(this.deps.db);
    this.jobs = new MediaJobs(this.deps.db);
    this.offEvent = this.deps.outbox.onEvent((env) => this.onEvent(env));
    const { commands } = this.deps;
    commands.register('snapshot', (args) => this.snapshotCommand(args));
    commands.register('clip', (args) => this.clipCommand(args));
    commands.register('recordings', async (args) => this.recordingsCommand(args));
    this.schedule(0);
    log.info({ queued: this.jobs.counts(), uploads: this.deps.upload ? 'on' : 'off' }, 'media ready');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.offEvent?.();
    if (this.timer) clearTimeout(this.timer);
    for (const [id] of this.waiters)
      this.settle(id, new CarewatchError('MEDIA_STOPPED', 'the gateway is stopping'));
  }

  counts(): ReturnType<MediaJobs['counts']> {
    return this.jobs.counts();
  }

  // ---- event clips -------------------------------------------------------

  private onEvent(env: Envelope): void {
    const { clips, devices, segmentSeconds } = this.deps.config;
    if (!clips.enabled || !wantsClip(env)) return;
    const at = Date.parse(env.ts);
    for (const cam of devices) {
      if (!cam.covers.includes(env.deviceId)) continue;
      const toMs = at + clips.afterS * 1000;
      const added = this.jobs.add({
        id: mintId(),
        kind: 'clip',
        cameraId: cam.deviceId,
        eventId: env.id,
        eventKind: env.kind,
        fromMs: at - clips.beforeS * 1000,
        toMs,
        state: 'cut',
        path: null,
        contentType: 'video/mp4',
        bytes: null,
        // the segment holding `toMs` closes up to one segment length later
        dueAt: toMs + segmentSeconds * 1000 + 1000,
        createdAt: this.now(),
      });
      if (added) {
        this.count('clip', 'scheduled');
        log.info({ camera: cam.deviceId, event: env.id, kind: env.kind }, 'event clip scheduled');
      }
    }
    this.schedule(0);
  }

  // ---- the worker ----------------------------------------------------------

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.work(), Math.max(0, delayMs));
    this.timer.unref();
  }

  private async work(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      for (let batch = this.jobs.due(this.now()); batch.length > 0; batch = this.jobs.due(this.now())) {
        for (const job of batch) {
          if (this.stopped) return;
          if (job.state === 'cut') await this.cutJob(job);
          else await this.uploadJob(job);
        }
      }
    } catch (err) {
      log.error({ err }, 'media worker failed');
    } finally {
      this.running = false;
      const next = this.jobs.nextDueAt();
      if (next !== null) this.schedule(Math.min(next - this.now(), MAX_BACKOFF_MS));
    }
  }

  private backoff(attempts: number): number {
    return Math.min(1000 * 2 ** attempts, MAX_BACKOFF_MS);
  }

  private async cutJob(job: MediaJob): Promise<void> {
    const last = this.index.last(job.cameraId);
    const waitedLong = this.now() > job.toMs + 3 * this.deps.config.segmentSeconds * 1000 + 30_000;
    if ((!last || last.endMs < job.toMs) && !waitedLong) {
      // the footage after the event is not all filed yet: look again shortly
      this.jobs.postpone(job.id, this.now() + 2000, 'waiting for the footage after the event');
      return;
    }
    const out = join(this.dir, `${job.id}.mp4`);
    try {
      const r = await cutClip(
        { index: this.index, ffmpeg: ffmpegPath() },
        {
          cameraId: job.cameraId,
          fromMs: job.fromMs,
          toMs: job.toMs,
          outPath: out,
        },
      );
      this.jobs.cut(job.id, out, r.bytes, this.now());
      this.count('clip', 'cut');
      log.info({ id: job.id, camera: job.cameraId, segments: r.segments, bytes: r.bytes }, 'clip cut');
    } catch (err) {
      const e = err as CarewatchError;
      if (e.code === 'MEDIA_NO_FOOTAGE' || job.attempts + 1 >= MAX_ATTEMPTS_CUT) {
        this.jobs.fail(job.id, `${e.code ?? 'ERROR'}: ${e.message}`);
        this.count('clip', 'failed');
        log.warn({ id: job.id, camera: job.cameraId, code: e.code, reason: e.message }, 'clip not cut');
        this.settle(job.id, e);
      } else {
        this.jobs.retryAt(job.id, this.now() + this.backoff(job.attempts), `${e.code}: ${e.message}`);
      }
    }
  }

  private async uploadJob(job: MediaJob): Promise<void> {
    const target = this.deps.upload;
    if (!target) {
      this.jobs.postpone(
        job.id,
        this.now() + MAX_BACKOFF_MS,
        'no central.httpUrl configured: kept at the site',
      );
      this.settle(job.id, new CarewatchError('MEDIA_UPLOAD_DISABLED', 'this gateway has no central.httpUrl'));
      return;
    }
    try {
      await uploadMedia(target, job);
      this.jobs.remove(job.id);
      if (job.path) await unlink(job.path).catch(() => {});
      this.count(job.kind, 'uploaded');
      log.info({ id: job.id, kind: job.kind, camera: job.cameraId, bytes: job.bytes }, 'media uploaded');
      this.settle(job.id, null);
    } catch (err) {
      const e = err as UploadError;
      if (e instanceof UploadError && e.permanent) {
        this.jobs.fail(job.id, e.message);
        if (job.path) await unlink(job.path).catch(() => {});
        this.count(job.kind, 'refused');
        log.error({ id: job.id, status: e.status, reason: e.message }, 'the central refused media');
        this.settle(job.id, e);
      } else {
        this.jobs.retryAt(job.id, this.now() + this.backoff(job.attempts), e.message ?? String(err));
        this.count(job.kind, 'retry');
        // a waiting command learns now that the central is not reachable; the job keeps trying
        this.settle(job.id, e);
      }
    }
  }

  private waitUploaded(id: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CarewatchError('MEDIA_UPLOAD_PENDING', `media ${id} is queued for upload`)),
        timeoutMs,
      );
      const list = this.waiters.get(id) ?? [];
      list.push((err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
      this.waiters.set(id, list);
    });
  }

  private settle(id: string, err: Error | null): void {
    const list = this.waiters.get(id);
    if (!list) return;
    this.waiters.delete(id);
    for (const fn of list) fn(err);
  }

  private count(kind: string, outcome: string): void {
    this.deps.metrics
      .counter('carewatch_gateway_media_total', 'snapshots and clips by outcome', ['kind', 'outcome'])
      .inc({ kind, outcome });
  }

  // ---- commands from the central -----------------------------------------

  private camera(args: Record<string, unknown>): string {
    const id = args.cameraId;
    if (typeof id !== 'string' || !this.deps.config.devices.some((d) => d.deviceId === id)) {
      throw new CarewatchError('MEDIA_UNKNOWN_CAMERA', `this gateway has no camera '${String(id)}'`);
    }
    return id;
  }

  private time(args: Record<string, unknown>, name: 'from' | 'to'): number {
    const ms = typeof args[name] === 'string' ? Date.parse(args[name] as string) : Number.NaN;
    if (!Number.isFinite(ms)) {
      throw new CarewatchError('MEDIA_RANGE_INVALID', `args.${name} must be an ISO 8601 date-time`);
    }
    return ms;
  }

  private async enqueueAndWait(job: MediaJob | Omit<MediaJob, 'attempts' | 'error'>) {
    this.jobs.add(job);
    const done = this.waitUploaded(job.id, 30_000);
    this.schedule(0);
    await done;
  }

  private async snapshotCommand(args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const cameraId = this.camera(args);
    const src = this.deps.source(cameraId);
    const last = this.index.last(cameraId);
    const source: SnapshotSource = {
      cameraId,
      ...(src ?? {}),
      ...(last ? { lastSegment: last.path } : {}),
    };
    const id = mintId();
    const out = join(this.dir, `${id}.jpg`);
    const at = this.now();
    const r = await takeSnapshot({ ffmpeg: ffmpegPath() }, source, out);
    this.count('snapshot', 'taken');
    await this.enqueueAndWait({
      id,
      kind: 'snapshot',
      cameraId,
      eventId: null,
      eventKind: null,
      fromMs: at,
      toMs: at,
      state: 'upload',
      path: out,
      contentType: 'image/jpeg',
      bytes: r.bytes,
      dueAt: at,
      createdAt: at,
    });
    return { mediaId: id, bytes: r.bytes, from: r.from };
  }

  private async clipCommand(args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const cameraId = this.camera(args);
    const id = mintId();
    const out = join(this.dir, `${id}.mp4`);
    const r = await cutClip(
      { index: this.index, ffmpeg: ffmpegPath() },
      { cameraId, fromMs: this.time(args, 'from'), toMs: this.time(args, 'to'), outPath: out },
    );
    this.count('clip', 'cut');
    await this.enqueueAndWait({
      id,
      kind: 'clip',
      cameraId,
      eventId: null,
      eventKind: null,
      fromMs: r.fromMs,
      toMs: r.toMs,
      state: 'upload',
      path: out,
      contentType: 'video/mp4',
      bytes: r.bytes,
      dueAt: this.now(),
      createdAt: this.now(),
    });
    return {
      mediaId: id,
      from: new Date(r.fromMs).toISOString(),
      to: new Date(r.toMs).toISOString(),
      bytes: r.bytes,
      segments: r.segments,
    };
  }

  private recordingsCommand(args: Record<string, unknown>): Record<string, unknown> {
    const cameraId = this.camera(args);
    const fromMs = this.time(args, 'from');
    const toMs = this.time(args, 'to');
    if (!(toMs > fromMs) || toMs - fromMs > 31 * 86_400_000) {
      throw new CarewatchError('MEDIA_RANGE_INVALID', 'the range must be positive and at most 31 days');
    }
    // gaps over 2 s split spans; at most 400 spans keep the reply under the 64 KiB payload limit
    const r = recordingSpans(this.index.range(cameraId, fromMs, toMs), 2000, 400);
    const oldest = this.index.oldest(cameraId);
    const newest = this.index.last(cameraId);
    return {
      cameraId,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      spans: r.spans.map((s) => ({
        from: new Date(s.fromMs).toISOString(),
        to: new Date(s.toMs).toISOString(),
        segments: s.segments,
        bytes: s.bytes,
      })),
      truncated: r.truncated,
      oldest: oldest ? new Date(oldest.startMs).toISOString() : null,
      newest: newest ? new Date(newest.endMs).toISOString() : null,
    };
  }
}
