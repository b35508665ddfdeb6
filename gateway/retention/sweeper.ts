/**
 * Retention sweeper with a 30-day hard floor.
 *
 * RULES
 * 1. Deletion is decided by age alone. A segment is deleted only when its end
 *    is older than now − policy(camera), policy ≥ 30 days (policy.ts refuses
 *    less). The disk's state never enters that decision: when the disk is
 *    short, carewatch does NOT delete footage younger than the policy (unlike
 *    Frigate, which deletes the oldest recordings whatever the retention when
 *    free space drops below about an hour of bandwidth). Every row the index
 *    returns is re-checked against the cutoff before its file is touched.
 * 2. Expired segments are found through the index (`camera_id, start_ms` index,
 *    `end_ms < cutoff`, LIMIT batches): the cost is proportional to what
 *    expires, not to what is kept.
 * 3. Order: unlink the files of a batch, then delete their rows in one
 *    transaction. A crash in between leaves expired rows whose files are gone;
 *    the next pass unlinks again (ENOENT counts as done) and removes the rows. A row never points to a file deleted by
 *    something unrecorded, and a young row whose file vanished is turned into
 *    a recorded gap by reconciliation (reconcile.ts, with a safety limit).
 *
 * FORECAST (forecast.ts)
 *    forecastDays = (free − reserve + kept bytes) / Σ measured bytes/day
 *    (rates measured per camera over `measureDays`, default 7). When the disk
 *    cannot hold every camera's policy + `marginDays` (default 2) of footage,
 *    `retention_at_risk` {forecastDays, policyDays, marginDays, freeBytes,
 *    bytesPerDay} is raised once; `retention_ok` when it recovers. This warns
 *    days ahead, while footage can still be kept: add disk, lower bitrates.
 *
 * DEGRADATION (degradation.ts) when free < `reserveBytes` (default: one hour
 * of the site's bandwidth, at least 512 MiB) and the disk is still filling
 * (bytes/day of the cameras still recording, measured over the last hour,
 * exceed the bytes/day that will expire over the next day). It changes what is
 * RECORDED, never what is KEPT; one step per sweep pass, each reported as
 * `recording_degraded` {cameraId, action, mode, freeBytes, reserveBytes}:
 *   - `stop_lowest_priority` (default): stop recording the least important
 *     camera still recording (cameras missing from the `priority` list first,
 *     then the list from its end);
 *   - `reduce_to_substream`: switch the least important camera that has a
 *     substream to it; when none is left, continue as `stop_lowest_priority`;
 *   - `stop_all`: stop every camera at once.
 * When free ≥ `resumeBytes` (default 2 × reserve) one step is undone per pass,
 * last first (`recording_restored`). The state is not persisted: after a
 * gateway restart every camera records again and the first passes re-degrade
 * if the disk is still short. Without a recording control only
 * `disk_reserve_reached` is raised.
 *
 * The knobs are `cameras.degradation` of site.yaml (gateway/config.ts: `mode`,
 * `priority`, `reserveBytes`, `resumeBytes`, `marginDays`), wired in
 * adapters/cameras.ts; described for operators in docs/architecture.md
 * ("Retention under disk pressure").
 *
 * A disk probe that fails or returns nonsense (NaN, negative, free > total)
 * raises `disk_probe_failed` and skips forecast and degradation for that pass;
 * deletion (rule 1) does not depend on it.
 */
import { statSync } from 'node:fs';
import { errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import type { Prober } from '../recorder/probe.js';
import type { RecordingControl } from '../recorder/recorder.js';
import { type DegradationMode, Degrader } from './degradation.js';
import type { RetentionEventHandler } from './events.js';
import { type Forecast, forecast } from './forecast.js';
import { DAY_MS, RETENTION_FLOOR_DAYS, type RetentionPolicy } from './policy.js';
import { type ReconcileResult, reconcile } from './reconcile.js';
import {
  type DiskProbe,
  type DiskSpace,
  nodeFs,
  type SweeperFs,
  type SweepIndex,
  statfsProbe,
} from './types.js';

const log = logger('gateway:retention');
const HOUR_MS = 3_600_000;

/** By default `retention_at_risk` is raised when the forecast falls below the policy plus this many days. */
export const DEFAULT_MARGIN_DAYS = 2;

export interface SweeperOptions {
  index: SweepIndex;
  rootDir: string;
  /** Current policy; a function so a policy command from central takes effect at the next pass. */
  policy: () => RetentionPolicy;
  onEvent: RetentionEventHandler;
  now?: () => number;
  diskFree?: DiskProbe;
  fs?: SweeperFs;
  probe?: Prober;
  /** Cameras configured for recording (cameras only present in the index are swept too). */
  cameras?: () => string[];
  control?: RecordingControl;
  degradation?: DegradationMode;
  priority?: string[];
  reserveBytes?: number;
  resumeBytes?: number;
  marginDays?: number;
  measureDays?: number;
  batchSize?: number;
  maxDropRows?: number;
  maxDropFraction?: number;
  intervalMs?: number;
  reconcileIntervalMs?: number;
}

export interface SweepResult {
  deleted: number;
  deletedBytes: number;
  failed: number;
  forecast: Forecast | undefined;
}

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private lastReconcile = Number.NEGATIVE_INFINITY;
  private atRisk = false;
  private probeFailed = false;
  private reserveReported = false;
  private last: Forecast | undefined;
  private degrader: Degrader | undefined;

  constructor(private readonly o: SweeperOptions) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private get fs(): SweeperFs {
    return this.o.fs ?? nodeFs;
  }

  private get deg(): Degrader {
    this.degrader ??= new Degrader(
      this.o.control,
      { mode: this.o.degradation ?? 'stop_lowest_priority', priority: this.o.priority ?? [] },
      this.o.onEvent,
    );
    return this.degrader;
  }

  /** The forecast of the last pass (for the inventory report). */
  lastForecast(): Forecast | undefined {
    return this.last;
  }

  degradations() {
    return this.deg.active();
  }

  /** Runs a pass now and then every `intervalMs` (default 10 min); reconciles at start and daily. */
  async start(): Promise<void> {
    if (this.timer) return;
    const every = this.o.intervalMs ?? 10 * 60_000;
    const loop = async () => {
      try {
        if (this.now() - this.lastReconcile >= (this.o.reconcileIntervalMs ?? DAY_MS)) await this.reconcile();
        await this.sweep();
      } catch (err) {
        log.error({ err }, 'retention pass failed');
        this.o.onEvent({
          type: 'retention_error',
          code: 'SWEEP_FAILED',
          message: errorMessage(err),
          at: this.now(),
        });
      }
    };
    await loop();
    this.timer = setInterval(() => void loop(), every);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running.catch(() => undefined);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.running.catch(() => undefined).then(fn);
    this.running = p;
    return p;
  }

  private cameras(): string[] {
    return [...new Set([...this.o.index.cameras(), ...(this.o.cameras?.() ?? [])])].sort();
  }

  /** One pass: delete expired segments, then forecast and degrade. */
  sweep(): Promise<SweepResult> {
    return this.serial(async () => {
      const result: SweepResult = { deleted: 0, deletedBytes: 0, failed: 0, forecast: undefined };
      const policy = this.o.policy();
      const now = this.now();
      if (!Number.isFinite(now)) throw new Error(`clock returned ${now}`);
      const cameras = this.cameras();
      for (const cam of cameras) await this.expire(cam, policy, now, result);
      this.o.index.dropGapsBefore(now - policy.maxDays() * DAY_MS);
      const disk = await this.readDisk(now);
      if (disk) result.forecast = await this.assess(disk, cameras, policy, now);
      return result;
    });
  }

  private async expire(cameraId: string, policy: RetentionPolicy, now: number, result: SweepResult) {
    // The floor is re-applied here, whatever the policy object says.
    const cutoff = Math.min(policy.cutoffFor(cameraId, now), now - RETENTION_FLOOR_DAYS * DAY_MS);
    const batch = this.o.batchSize ?? 500;
    let count = 0;
    let bytes = 0;
    const seen = new Set<number>(); // a row is handled once per pass, whatever the index returns
    for (;;) {
      const rows = this.o.index.expired(cameraId, cutoff, batch);
      const done: number[] = [];
      for (const seg of rows) {
        if (seen.has(seg.id)) continue;
        seen.add(seg.id);
        if (seg.cameraId !== cameraId || !(seg.endMs < cutoff)) {
          log.error({ seg, cutoff }, 'index returned a segment that is not expired: left alone');
          result.failed++;
          continue;
        }
        try {
          await this.fs.unlink(seg.path);
        } catch (err) {
          log.error({ err, path: seg.path }, 'cannot delete expired segment');
          result.failed++;
          continue;
        }
        done.push(seg.id);
        count++;
        bytes += seg.bytes;
      }
      // the batch's files are gone; their rows go in one transaction
      this.o.index.removeMany(done);
      if (rows.length < batch || done.length === 0) break;
      await new Promise((r) => setImmediate(r));
    }
    if (count) {
      result.deleted += count;
      result.deletedBytes += bytes;
      this.o.onEvent({ type: 'segments_expired', cameraId, count, bytes, cutoffMs: cutoff, at: now });
    }
  }

  private async readDisk(now: number): Promise<DiskSpace | undefined> {
    let disk: DiskSpace | undefined;
    let why = '';
    try {
      disk = await (this.o.diskFree ?? statfsProbe(this.rootDirForProbe()))();
      const ok =
        disk &&
        Number.isFinite(disk.freeBytes) &&
        Number.isFinite(disk.totalBytes) &&
        disk.freeBytes >= 0 &&
        disk.totalBytes > 0 &&
        disk.freeBytes <= disk.totalBytes;
      if (!ok) {
        why = `disk probe returned ${JSON.stringify(disk)}`;
        disk = undefined;
      }
    } catch (err) {
      why = `disk probe failed: ${errorMessage(err)}`;
      disk = undefined;
    }
    if (!disk) {
      if (!this.probeFailed) this.o.onEvent({ type: 'disk_probe_failed', message: why, at: now });
      this.probeFailed = true;
      return undefined;
    }
    this.probeFailed = false;
    return disk;
  }

  private rootDirForProbe(): string {
    try {
      statSync(this.o.rootDir);
      return this.o.rootDir;
    } catch {
      return '.';
    }
  }

  private async assess(disk: DiskSpace, cameras: string[], policy: RetentionPolicy, now: number) {
    const idx = this.o.index;
    const rates = cameras.map((cameraId) => ({
      cameraId,
      bytesPerDay: idx.bytesPerDay(cameraId, this.o.measureDays ?? 7, now),
    }));
    const totalBpd = rates.reduce((s, r) => s + r.bytesPerDay, 0);
    const reserve = this.o.reserveBytes ?? Math.max(512 * 1024 ** 2, totalBpd / 24);
    const f = forecast({
      freeBytes: disk.freeBytes,
      totalBytes: disk.totalBytes,
      keptBytes: idx.totals().bytes,
      reserveBytes: reserve,
      rates,
      policy,
      marginDays: this.o.marginDays ?? DEFAULT_MARGIN_DAYS,
    });
    this.last = f;
    if (f.atRisk && !this.atRisk) {
      log.warn({ forecast: f }, 'retention at risk');
      this.o.onEvent({
        type: 'retention_at_risk',
        forecastDays: f.forecastDays,
        policyDays: f.policyDays,
        marginDays: f.marginDays,
        freeBytes: f.freeBytes,
        bytesPerDay: f.bytesPerDay,
        at: now,
      });
    } else if (!f.atRisk && this.atRisk) {
      this.o.onEvent({
        type: 'retention_ok',
        forecastDays: f.forecastDays,
        policyDays: f.policyDays,
        at: now,
      });
    }
    this.atRisk = f.atRisk;

    if (!this.o.control) {
      if (disk.freeBytes < reserve && !this.reserveReported) {
        this.o.onEvent({
          type: 'disk_reserve_reached',
          freeBytes: disk.freeBytes,
          reserveBytes: reserve,
          at: now,
        });
      }
      this.reserveReported = disk.freeBytes < reserve;
      return f;
    }
    // Cameras that can be degraded: the configured ones, else those that recorded in the last hour.
    const recent = (cam: string) => (idx.bytesBetween(cam, now - HOUR_MS, now) * DAY_MS) / HOUR_MS;
    const stopped = this.deg.stopped();
    const degradable = this.o.cameras?.() ?? cameras.filter((c) => stopped.has(c) || recent(c) > 0);
    await this.deg.apply({
      now,
      freeBytes: disk.freeBytes,
      reserveBytes: reserve,
      resumeBytes: this.o.resumeBytes ?? 2 * reserve,
      cameras: degradable,
      netInflow: () => {
        const off = this.deg.stopped(); // changes with each step
        let inflow = 0;
        for (const cam of cameras) {
          if (!off.has(cam)) inflow += recent(cam);
          const cutoff = policy.cutoffFor(cam, now);
          inflow -= idx.bytesBetween(cam, cutoff, cutoff + DAY_MS);
        }
        return inflow;
      },
    });
    return f;
  }

  /** Reconciles index and disk (see reconcile.ts); `force` lifts the safety limit. */
  reconcile(opts: { force?: boolean } = {}): Promise<ReconcileResult> {
    return this.serial(async () => {
      const now = this.now();
      const r = await reconcile({
        index: this.o.index,
        fs: this.fs,
        rootDir: this.o.rootDir,
        policy: this.o.policy(),
        now,
        probe: this.o.probe,
        maxDropRows: this.o.maxDropRows ?? 500,
        maxDropFraction: this.o.maxDropFraction ?? 0.05,
        batchSize: this.o.batchSize ?? 500,
        force: opts.force,
      });
      this.lastReconcile = now;
      if (r.refused) {
        log.error({ result: r }, 'reconciliation refused to drop rows: too many files missing');
        this.o.onEvent({
          type: 'reconcile_refused',
          missing: r.missing,
          checked: r.checked,
          maxRows: this.o.maxDropRows ?? 500,
          maxFraction: this.o.maxDropFraction ?? 0.05,
          at: now,
        });
      }
      if (r.indexed || r.deleted || r.dropped) {
        this.o.onEvent({
          type: 'orphans_reconciled',
          indexed: r.indexed,
          deleted: r.deleted,
          dropped: r.dropped,
          at: now,
        });
      }
      return r;
    });
  }
}
