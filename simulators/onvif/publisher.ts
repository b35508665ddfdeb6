/**
 * The camera's live stream: one supervised ffmpeg that encodes the test source
 * and publishes it to an RTSP server. Restarted with back-off when it exits
 * while it should run (e.g. the RTSP server was restarted).
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../lib/logger.js';
import { publishArgs, sourceArgs, spawnTracked, stopChild, type VideoSpec } from './ffmpeg.js';

export interface PublisherOptions {
  ffmpeg: string;
  video: VideoSpec;
  bitrateKbps: number;
  /** Full RTSP publish URL, e.g. rtsp://127.0.0.1:8554/cam1. */
  url: string;
  labelFile: string | undefined;
  /** First restart delay; doubles up to 10 s. Default 500 ms. */
  restartDelayMs?: number;
  log: Logger;
}

export interface PublisherEvents {
  spawn: [pid: number];
  exit: [code: number | null, signal: NodeJS.Signals | null, stderrTail: string];
}

export class Publisher extends EventEmitter<PublisherEvents> {
  private child: ChildProcess | undefined;
  private wanted = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private delay: number;
  private stderrTail = '';
  private startedAt = 0;
  restarts = 0;

  constructor(private readonly opts: PublisherOptions) {
    super();
    this.delay = opts.restartDelayMs ?? 500;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.wanted;
  }

  /** Last lines ffmpeg wrote to stderr (diagnostics). */
  get lastStderr(): string {
    return this.stderrTail;
  }

  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.delay = this.opts.restartDelayMs ?? 500;
    this.spawnOnce();
  }

  async stop(): Promise<void> {
    this.wanted = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child) await stopChild(child, 1500);
  }

  private spawnOnce(): void {
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'warning',
      ...sourceArgs(this.opts.video, this.opts.labelFile, true),
      ...publishArgs({ ...this.opts.video, bitrateKbps: this.opts.bitrateKbps, url: this.opts.url }),
    ];
    const child = spawnTracked(this.opts.ffmpeg, args, 'ignore');
    this.child = child;
    this.startedAt = Date.now();
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    child.once('spawn', () => {
      if (child.pid !== undefined) this.emit('spawn', child.pid);
    });
    child.once('error', (err) => this.opts.log.error({ err: err.message }, 'cannot start ffmpeg publisher'));
    child.once('close', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.emit('exit', code, signal, this.stderrTail);
      if (!this.wanted) return;
      // A run that lasted a while resets the back-off.
      if (Date.now() - this.startedAt > 10_000) this.delay = this.opts.restartDelayMs ?? 500;
      this.opts.log.warn(
        { code, signal, stderr: this.stderrTail.slice(-500), retryMs: this.delay },
        'publisher exited',
      );
      this.restarts++;
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (this.wanted) this.spawnOnce();
      }, this.delay);
      this.delay = Math.min(this.delay * 2, 10_000);
    });
  }
}
