import { logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import type { CameraReport } from '../../protocol/index.js';
import type { Db } from '../../storage/sqlite/open.js';
import type { CamerasConfig } from '../config.js';
import type { Outbox } from '../outbox.js';
import type { RecorderEvent } from '../recorder/events.js';
import { ffprobePath } from '../recorder/ffmpeg-args.js';
import { ffprobeProber } from '../recorder/probe.js';
import { Recorder } from '../recorder/recorder.js';
import { SegmentIndex } from '../recorder/segment-index.js';
import type { RetentionEvent } from '../retention/events.js';
import { RetentionPolicy } from '../retention/policy.js';
import { complianceReport } from '../retention/report.js';
import { RetentionSweeper } from '../retention/sweeper.js';

const log = logger('gateway:cameras');

/**
 * Cameras of the site: one supervised ffmpeg recorder each, the retention
 * sweeper with its 30-day floor, and the mapping of what they report to
 * protocol events (`camera_state`, `recording_state`, `retention_state`) and to
 * the camera entries of the inventory.
 */
export class CameraModule {
  private recorder: Recorder | undefined;
  private sweeper: RetentionSweeper | undefined;
  private index: SegmentIndex | undefined;
  private policy: RetentionPolicy | undefined;
  private readonly online = new Map<string, boolean>();
  private readonly stalled = new Map<string, boolean>();
  private lastForecastDays: number | null = null;

  constructor(
    private readonly deps: {
      config: CamerasConfig;
      db: Db;
      outbox: Outbox;
      metrics: Metrics;
      /** Called when something the inventory reports has changed. */
      changed: () => void;
    },
  ) {}

  async start(): Promise<void> {
    const { config, db } = this.deps;
    this.policy = RetentionPolicy.from({ siteDays: config.retentionDays });
    this.index = new SegmentIndex(db);
    this.recorder = new Recorder({
      rootDir: config.recordingsDir,
      index: this.index,
      cameras: config.devices.map((c) => ({
        cameraId: c.deviceId,
        inputUrl: c.streamUrl,
        ...(c.substreamUrl ? { substreamUrl: c.substreamUrl } : {}),
        ...(c.transport ? { transport: c.transport } : {}),
        segmentSeconds: config.segmentSeconds,
      })),
      onEvent: (e) => this.onRecorder(e),
      probe: ffprobeProber(ffprobePath()),
    });
    this.sweeper = new RetentionSweeper({
      index: this.index,
      rootDir: config.recordingsDir,
      policy: () => this.policy!,
      onEvent: (e) => this.onRetention(e),
      cameras: () => config.devices.map((c) => c.deviceId),
      control: this.recorder,
      probe: ffprobeProber(ffprobePath()),
    });
    await this.recorder.start();
    await this.sweeper.start();
    log.info({ cameras: config.devices.length, policyDays: config.retentionDays }, 'cameras recording');
  }

  /** Changes the retention policy (e.g. by a command from the central); below 30 days it is refused. */
  setRetentionDays(days: unknown): number {
    this.policy = RetentionPolicy.from({ siteDays: days as number });
    this.deps.changed();
    return this.policy.maxDays();
  }

  private emit(
    kind: 'camera_state' | 'recording_state' | 'retention_state',
    deviceId: string,
    data: object,
  ): void {
    void this.deps.outbox
      .add({ kind, deviceId, data: data as never })
      .catch((err) => log.error({ err, kind, deviceId }, 'camera event not stored'));
    this.deps.changed();
  }

  private zoneOf(cameraId: string): string | undefined {
    return this.deps.config.devices.find((c) => c.deviceId === cameraId)?.zone;
  }

  private onRecorder(e: RecorderEvent): void {
    switch (e.type) {
      case 'camera_offline':
        this.online.set(e.cameraId, false);
        this.emit('camera_state', e.cameraId, {
          state: 'offline',
          zone: this.zoneOf(e.cameraId),
          reason: e.reason.slice(0, 256),
        });
        break;
      case 'camera_online':
        this.online.set(e.cameraId, true);
        this.emit('camera_state', e.cameraId, { state: 'online', zone: this.zoneOf(e.cameraId) });
        break;
      case 'recording_stalled':
        this.stalled.set(e.cameraId, true);
        this.emit('recording_state', e.cameraId, {
          state: 'stalled',
          since: new Date(e.since).toISOString(),
        });
        break;
      case 'recording_resumed':
        this.stalled.set(e.cameraId, false);
        this.emit('recording_state', e.cameraId, { state: 'recording' });
        break;
      case 'recorder_error':
        this.emit('recording_state', e.cameraId, {
          state: 'stopped',
          reason: `${e.code}: ${e.message}`.slice(0, 256),
        });
        break;
      case 'segment_indexed':
        this.deps.metrics.counter('carewatch_gateway_segments_total', 'recorded segments indexed').inc();
        if (this.online.get(e.cameraId) !== true) {
          this.online.set(e.cameraId, true);
          this.deps.changed();
        }
        break;
      default:
        break;
    }
  }

  private onRetention(e: RetentionEvent): void {
    const free = (n: number) => Math.max(0, Math.floor(n));
    switch (e.type) {
      case 'retention_at_risk':
        this.lastForecastDays = e.forecastDays;
        this.emit('retention_state', this.deps.config.siteDeviceId, {
          state: 'at_risk',
          policyDays: e.policyDays,
          forecastDays: e.forecastDays,
          freeBytes: free(e.freeBytes),
        });
        break;
      case 'retention_ok':
        this.lastForecastDays = e.forecastDays;
        this.emit('retention_state', this.deps.config.siteDeviceId, {
          state: 'ok',
          policyDays: e.policyDays,
          forecastDays: e.forecastDays,
          freeBytes: 0,
        });
        break;
      case 'disk_reserve_reached':
        this.emit('retention_state', this.deps.config.siteDeviceId, {
          state: 'reserve_reached',
          policyDays: this.policy?.maxDays() ?? 30,
          forecastDays: this.lastForecastDays,
          freeBytes: free(e.freeBytes),
        });
        break;
      case 'recording_degraded':
        this.emit('recording_state', e.cameraId, { state: 'degraded', reason: `${e.mode}: ${e.action}` });
        break;
      case 'recording_restored':
        this.emit('recording_state', e.cameraId, { state: 'recording' });
        break;
      default:
        log.info({ event: e.type }, 'retention');
    }
  }

  /** The camera entries of the inventory: what the central judges coverage and retention by. */
  inventory(): CameraReport[] {
    if (!this.index || !this.policy || !this.recorder) return [];
    const now = Date.now();
    const report = complianceReport({
      index: this.index,
      policy: this.policy,
      now,
      cameras: this.deps.config.devices.map((c) => c.deviceId),
      ...(this.sweeper?.lastForecast() ? { forecast: this.sweeper.lastForecast()! } : {}),
    });
    const status = new Map(this.recorder.status().map((s) => [s.cameraId, s]));
    return this.deps.config.devices.map((c) => {
      const r = report.find((x) => x.cameraId === c.deviceId);
      const st = status.get(c.deviceId);
      return {
        deviceId: c.deviceId,
        type: 'camera' as const,
        zone: c.zone,
        ...(c.label ? { label: c.label } : {}),
        online: st?.online === true || this.online.get(c.deviceId) === true,
        recording: st?.running === true && !st.stalled && st.lastSegmentEndMs !== undefined,
        oldestKeptAt: r?.oldestKeptMs ? new Date(r.oldestKeptMs).toISOString() : null,
        continuityPct: Math.max(0, Math.min(100, Math.round((r?.continuityPct ?? 0) * 10) / 10)),
        policyDays: r?.policyDays ?? this.policy!.daysFor(c.deviceId),
        forecastDays: r?.forecastDays ?? null,
      };
    });
  }

  async stop(): Promise<void> {
    await this.sweeper?.stop();
    await this.recorder?.stop();
  }
}
