/**
 * One ONVIF camera kept resolved: resolution at start, again whenever the
 * recorder's ffmpeg failed (`refresh()`), retried with backoff while it
 * fails. Each failure episode is reported once per reason; the PullPoint
 * watcher follows the current session. Nothing here throws to the caller.
 */
import { logger } from '../../../lib/logger.js';
import type { OnvifCameraSource } from '../../config.js';
import { classifyOnvifError, type OnvifDeviceInfo, type OnvifFailure, type OnvifProfile } from './client.js';
import { type CameraEventName, PullPointWatcher } from './events.js';
import { type ResolvedCamera, resolveOnvifCamera } from './resolve.js';

const log = logger('gateway:onvif');

export interface OnvifSupervisorOptions {
  cameraId: string;
  source: OnvifCameraSource;
  /** A (new) resolution: record from `camera.streamUrl`. */
  onResolved: (camera: ResolvedCamera) => Promise<void>;
  /** Resolution failed (once per episode and reason); `message` has no credentials. */
  onFailure: (reason: OnvifFailure, message: string) => Promise<void> | void;
  /** Resolved again after reported failures. */
  onRecovered: () => void;
  onCameraEvent: (e: { event: CameraEventName; active: boolean }) => void;
  backoff?: { initialMs: number; maxMs: number };
}

export class OnvifCameraSupervisor {
  private running = false;
  private current: ResolvedCamera | undefined;
  private info: { device: OnvifDeviceInfo; profile: OnvifProfile } | undefined;
  private watcher: PullPointWatcher | undefined;
  private inFlight: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private reported: OnvifFailure | undefined;
  lastFailure: { reason: OnvifFailure; message: string } | undefined;
  attempts = 0;

  constructor(private readonly o: OnvifSupervisorOptions) {
    this.delayMs = o.backoff?.initialMs ?? 1000;
  }

  get resolved(): ResolvedCamera | undefined {
    return this.current;
  }

  get device(): OnvifDeviceInfo | undefined {
    return this.info?.device;
  }

  get profile(): OnvifProfile | undefined {
    return this.info?.profile;
  }

  /** First resolution attempt (awaited; a failure only schedules the retry). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.refresh();
  }

  /** Resolves again now (one attempt at a time; a call during an attempt joins it). */
  refresh(): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.inFlight ??= this.attempt().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async attempt(): Promise<void> {
    this.attempts++;
    try {
      const r = await resolveOnvifCamera(this.o.cameraId, this.o.source);
      if (!this.running) {
        r.session.close();
        return;
      }
      this.current = r.camera;
      this.info = { device: r.device, profile: r.profile };
      await this.watcher?.stop();
      this.watcher = undefined;
      if ((this.o.source.events ?? true) && r.session.hasEvents) {
        this.watcher = new PullPointWatcher({
          cameraId: this.o.cameraId,
          session: r.session,
          onEvent: (e) => this.o.onCameraEvent(e),
        });
        this.watcher.start();
      } else {
        r.session.close();
      }
      this.delayMs = this.o.backoff?.initialMs ?? 1000;
      this.lastFailure = undefined;
      log.info(
        {
          cameraId: this.o.cameraId,
          profile: r.profile.token,
          model: r.device.model,
          events: Boolean(this.watcher),
        },
        'ONVIF camera resolved',
      );
      await this.o.onResolved(r.camera);
      if (this.reported) {
        this.reported = undefined;
        this.o.onRecovered();
      }
    } catch (err) {
      if (!this.running) return;
      const reason = classifyOnvifError(err);
      const message = err instanceof Error ? err.message : String(err);
      this.lastFailure = { reason, message };
      log.warn(
        { cameraId: this.o.cameraId, reason, err: message, retryMs: this.delayMs },
        'ONVIF resolution failed',
      );
      if (this.reported !== reason) {
        this.reported = reason;
        try {
          await this.o.onFailure(reason, message);
        } catch (e) {
          log.error({ cameraId: this.o.cameraId, err: String(e) }, 'failure handler failed');
        }
      }
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.o.backoff?.maxMs ?? 60_000, this.delayMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.refresh();
    }, delay);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.inFlight?.catch(() => undefined);
    await this.watcher?.stop();
    this.watcher = undefined;
  }
}
