import { CarewatchError, ConfigError } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import type { CameraReport } from '../../protocol/index.js';
import type { Db } from '../../storage/sqlite/open.js';
import type { CommandRouter } from '../commands.js';
import { type CamerasConfig, checkCamerasConfig } from '../config.js';
import type { Outbox } from '../outbox.js';
import type { RecorderEvent } from '../recorder/events.js';
import { ffprobePath } from '../recorder/ffmpeg-args.js';
import { ffprobeProber } from '../recorder/probe.js';
import { SegmentIndex } from '../recorder/segment-index.js';
import type { RetentionEvent } from '../retention/events.js';
import { RetentionPolicy } from '../retention/policy.js';
import { effectiveSiteDays, RetentionPolicyStore } from '../retention/policy-store.js';
import { complianceReport } from '../retention/report.js';
import { DEFAULT_MARGIN_DAYS, RetentionSweeper, type SweepResult } from '../retention/sweeper.js';
import { type DiskProbe, diskSpaceNow } from '../retention/types.js';
import { maskCredentials, type OnvifFailure } from './onvif/client.js';
import { RecorderSet } from './onvif/recorder-set.js';
import type { ResolvedCamera } from './onvif/resolve.js';
import { OnvifCameraSupervisor } from './onvif/supervisor.js';

const log = logger('gateway:cameras');

/**
 * Cameras of the site: one supervised ffmpeg recorder each, the retention
 * sweeper with its 30-day floor, and the mapping of what they report to
 * protocol events (`camera_state`, `recording_state`, `retention_state`,
 * `camera_event`) and to the camera entries of the inventory. A camera is
 * either a fixed `streamUrl` or an `onvif:` camera whose stream is resolved
 * over ONVIF at start and again after each recorder failure.
 */
export class CameraModule {
  private recorder: RecorderSet | undefined;
  private readonly onvif = new Map<string, OnvifCameraSupervisor>();
  private stopping = false;
  private sweeper: RetentionSweeper | undefined;
  private index: SegmentIndex | undefined;
  private policy: RetentionPolicy | undefined;
  private policyStore: RetentionPolicyStore | undefined;
  /** Per-camera `retentionDays` of the config (checked: ≥ 30 and ≥ the configured site days). */
  private cameraDays: Record<string, number> = {};
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
      /** Free and total bytes of the recordings volume (default: statfs of `recordingsDir`; tests pass a fake). */
      diskFree?: DiskProbe;
    },
  ) {}

  async start(): Promise<void> {
    const { config, db } = this.deps;
    const ids = config.devices.map((c) => c.deviceId);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice) throw new ConfigError(`cameras: camera ${twice} configured twice`);
    // the configured values are checked even when a stored policy replaces the site's: below 30 days
    // (site or camera), a camera below the site, or a bad degradation block refuses to start
    this.cameraDays = checkCamerasConfig(config);
    const configured = RetentionPolicy.from({ siteDays: config.retentionDays });
    this.policyStore = new RetentionPolicyStore(db);
    this.policy = this.policyFor(effectiveSiteDays(configured.siteDays, this.policyStore.load()));
    this.index = new SegmentIndex(db);
    this.stopping = false;
    this.recorder = new RecorderSet({
      rootDir: config.recordingsDir,
      index: this.index,
      cameras: config.devices.flatMap((c) =>
        c.streamUrl
          ? [
              {
                cameraId: c.deviceId,
                inputUrl: c.streamUrl,
                ...(c.substreamUrl ? { substreamUrl: c.substreamUrl } : {}),
                ...(c.transport ? { transport: c.transport } : {}),
                segmentSeconds: config.segmentSeconds,
              },
            ]
          : [],
      ),
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
      // `degradation:` of the config; an absent field takes the sweeper's default
      degradation: config.degradation?.mode,
      priority: config.degradation?.priority,
      reserveBytes: config.degradation?.reserveBytes,
      resumeBytes: config.degradation?.resumeBytes,
      marginDays: config.degradation?.marginDays,
      ...(this.deps.diskFree ? { diskFree: this.deps.diskFree } : {}),
    });
    if (
      config.degradation?.mode === 'reduce_to_substream' &&
      !config.devices.some((c) => c.substreamUrl !== undefined)
    ) {
      log.warn(
        'degradation mode reduce_to_substream: no camera has a substreamUrl, it stops cameras instead',
      );
    }
    await this.recorder.start();
    await this.sweeper.start();
    for (const c of config.devices) {
      if (!c.onvif) continue;
      const id = c.deviceId;
      const onvif = c.onvif;
      this.onvif.set(
        id,
        new OnvifCameraSupervisor({
          cameraId: id,
          source: onvif,
          onResolved: (cam) =>
            this.recorder!.record({
              cameraId: id,
              inputUrl: cam.streamUrl,
              transport: onvif.transport ?? c.transport ?? 'tcp',
              ...(c.substreamUrl ? { substreamUrl: c.substreamUrl } : {}),
              segmentSeconds: config.segmentSeconds,
            }),
          onFailure: (reason, message) => this.onOnvifFailure(id, reason, message),
          onRecovered: () => this.setOnline(id, true, undefined),
          onCameraEvent: (e) => this.emit('camera_event', id, e),
        }),
      );
    }
    await Promise.all([...this.onvif.values()].map((s) => s.start()));
    log.info(
      { cameras: config.devices.length, onvif: this.onvif.size, policyDays: this.policy.maxDays() },
      'cameras recording',
    );
  }

  /**
   * The stream and snapshot of a camera as last resolved (ONVIF) or configured
   * (`streamUrl`); undefined for an ONVIF camera not resolved yet. The
   * credentials are the camera's own, for fetching its snapshot.
   */
  resolvedCamera(
    cameraId: string,
  ):
    | { cameraId: string; streamUrl: string; snapshotUri?: string; username?: string; password?: string }
    | undefined {
    const sup = this.onvif.get(cameraId);
    if (sup) {
      const r: ResolvedCamera | undefined = sup.resolved;
      return r ? { ...r } : undefined;
    }
    const c = this.deps.config.devices.find((d) => d.deviceId === cameraId);
    return c?.streamUrl ? { cameraId, streamUrl: c.streamUrl } : undefined;
  }

  /** Resolution failed: the camera is offline for that reason; its recorder waits for the next resolution. */
  private async onOnvifFailure(cameraId: string, reason: OnvifFailure, message: string): Promise<void> {
    this.setOnline(cameraId, false, `${reason}: ${message}`);
    await this.recorder?.suspend(cameraId);
  }

  private setOnline(cameraId: string, online: boolean, reason: string | undefined): void {
    this.online.set(cameraId, online);
    this.emit('camera_state', cameraId, {
      state: online ? 'online' : 'offline',
      zone: this.zoneOf(cameraId),
      ...(reason ? { reason: maskCredentials(reason).slice(0, 256) } : {}),
    });
  }

  /**
   * The policy for these site days: the site's days for every camera, and a
   * camera's configured `retentionDays` where it is longer. A camera's days are
   * never below the site's: when the central raises the site above a camera's
   * configured days, that camera is raised with it (and keeps its own days again
   * if the site is lowered later).
   */
  private policyFor(siteDays: number): RetentionPolicy {
    const cameras: Record<string, number> = {};
    for (const [id, days] of Object.entries(this.cameraDays)) {
      if (days < siteDays)
        log.info({ cameraId: id, days, siteDays }, "camera's retentionDays raised to the site's");
      cameras[id] = Math.max(days, siteDays);
    }
    return RetentionPolicy.from({ siteDays, cameras });
  }

  /**
   * Changes the site's retention days (a command from the central): below 30
   * days it is refused; an accepted value is stored before it applies, so it
   * survives a restart (it then applies over `retentionDays` of the config).
   * Cameras with a longer configured `retentionDays` keep theirs. Returns the
   * site's days now in effect.
   */
  setRetentionDays(days: unknown): number {
    if (!this.policyStore)
      throw new CarewatchError('CAMERAS_NOT_STARTED', 'the camera module is not started');
    const siteDays = RetentionPolicy.from({ siteDays: days as number }).siteDays;
    const next = this.policyFor(siteDays);
    this.policyStore.save(siteDays);
    this.policy = next;
    log.info({ policyDays: siteDays }, 'retention policy changed by the central');
    this.deps.changed();
    return siteDays;
  }

  /** Answers the central's `retention_policy` command (`{days}`) with the site's days now in effect. */
  registerCommands(commands: CommandRouter): void {
    commands.register('retention_policy', async (args) => ({
      retentionDays: this.setRetentionDays(args.days),
    }));
  }

  /** Runs a retention pass now (it also runs at start and every 10 minutes). */
  retentionPass(): Promise<SweepResult> | undefined {
    return this.sweeper?.sweep();
  }

  private emit(
    kind: 'camera_state' | 'recording_state' | 'retention_state' | 'camera_event',
    deviceId: string,
    data: object,
  ): void {
    void this.deps.outbox
      .add({ kind, deviceId, data: data as never })
      .catch((err) => log.error({ err, kind, deviceId }, 'camera event not stored'));
    if (kind !== 'camera_event') this.deps.changed();
  }

  private zoneOf(cameraId: string): string | undefined {
    return this.deps.config.devices.find((c) => c.deviceId === cameraId)?.zone;
  }

  private onRecorder(e: RecorderEvent): void {
    switch (e.type) {
      case 'camera_offline':
        this.setOnline(e.cameraId, false, e.reason);
        break;
      case 'camera_online':
        this.setOnline(e.cameraId, true, undefined);
        break;
      case 'recording_exited': {
        // ffmpeg failed (not stopped by us): ask the ONVIF camera for its stream again.
        const running = this.recorder?.status().find((s) => s.cameraId === e.cameraId)?.running;
        if (running && !this.stopping) void this.onvif.get(e.cameraId)?.refresh();
        break;
      }
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
          reason: maskCredentials(`${e.code}: ${e.message}`).slice(0, 256),
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
    const disk = diskSpaceNow(this.deps.config.recordingsDir);
    return this.deps.config.devices.map((c) => {
      const r = report.find((x) => x.cameraId === c.deviceId);
      const st = status.get(c.deviceId);
      // Device information from ONVIF (the report schema admits extra fields).
      const dev = this.onvif.get(c.deviceId)?.device;
      return {
        ...(dev?.manufacturer ? { manufacturer: dev.manufacturer } : {}),
        ...(dev?.model ? { model: dev.model } : {}),
        ...(dev?.firmwareVersion ? { firmware: dev.firmwareVersion } : {}),
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
        ...(disk ? { diskFreeBytes: disk.freeBytes, diskTotalBytes: disk.totalBytes } : {}),
        atRiskMarginDays: this.deps.config.degradation?.marginDays ?? DEFAULT_MARGIN_DAYS,
      };
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.onvif.values()].map((s) => s.stop()));
    this.onvif.clear();
    await this.sweeper?.stop();
    await this.recorder?.stop();
  }
}
