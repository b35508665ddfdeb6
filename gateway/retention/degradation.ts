/**
 * Degradation when free space falls below the reserve. It only ever reduces
 * or stops *recording*; it never deletes footage (see sweeper.ts). One step per
 * sweep pass while free < reserve and the net inflow (bytes/day written by the
 * cameras still recording minus bytes/day expiring) is positive; one step
 * undone per pass (last in, first out) once free ≥ resumeBytes.
 */
import { logger } from '../../lib/logger.js';
import type { RecordingControl } from '../recorder/recorder.js';
import type { RetentionEvent } from './events.js';

const log = logger('gateway:retention');

export type DegradationMode = 'stop_lowest_priority' | 'reduce_to_substream' | 'stop_all';
export type DegradeAction = 'substream' | 'stopped';

export interface DegradationOptions {
  mode: DegradationMode;
  /** Camera ids, most important first; cameras not listed are the least important (by id). */
  priority: string[];
}

export interface DegradeInput {
  now: number;
  freeBytes: number;
  reserveBytes: number;
  resumeBytes: number;
  cameras: string[];
  /** Net bytes/day with the current degradation (positive: the disk keeps filling). */
  netInflow: () => number;
}

export class Degrader {
  private readonly steps: Array<{ cameraId: string; action: DegradeAction }> = [];
  private readonly noSubstream = new Set<string>();

  constructor(
    private readonly control: RecordingControl | undefined,
    private readonly opts: DegradationOptions,
    private readonly emit: (e: RetentionEvent) => void,
  ) {}

  /** Cameras whose recording this degrader stopped. */
  stopped(): Set<string> {
    return new Set(this.steps.filter((s) => s.action === 'stopped').map((s) => s.cameraId));
  }

  active(): ReadonlyArray<{ cameraId: string; action: DegradeAction }> {
    return [...this.steps];
  }

  /** Least important first. */
  order(cameras: string[]): string[] {
    const rank = new Map(this.opts.priority.map((id, i) => [id, i]));
    const unlisted = cameras.filter((c) => !rank.has(c)).sort();
    const listed = cameras.filter((c) => rank.has(c)).sort((a, b) => rank.get(b)! - rank.get(a)!);
    return [...unlisted, ...listed];
  }

  async apply(input: DegradeInput): Promise<void> {
    if (!this.control) return;
    if (input.freeBytes < input.reserveBytes && input.netInflow() > 0) {
      if (this.opts.mode === 'stop_all') {
        for (const cam of this.order(input.cameras))
          if (!this.stopped().has(cam)) await this.stop(cam, input);
        return;
      }
      if (this.opts.mode === 'reduce_to_substream' && (await this.reduceNext(input))) return;
      const next = this.order(input.cameras).find((c) => !this.stopped().has(c));
      if (next) await this.stop(next, input);
      return;
    }
    if (input.freeBytes >= input.resumeBytes && this.steps.length) {
      const undo = this.opts.mode === 'stop_all' ? this.steps.splice(0) : [this.steps.pop()!];
      for (const step of undo.reverse()) {
        if (step.action === 'stopped') await this.control.resumeCamera(step.cameraId);
        else await this.control.useSubstream(step.cameraId, false);
        log.info({ ...step, freeBytes: input.freeBytes }, 'recording degradation undone');
        this.emit({ type: 'recording_restored', ...step, freeBytes: input.freeBytes, at: input.now });
      }
    }
  }

  private async reduceNext(input: DegradeInput): Promise<boolean> {
    const reduced = new Set(this.steps.map((s) => s.cameraId));
    for (const cam of this.order(input.cameras)) {
      if (reduced.has(cam) || this.noSubstream.has(cam)) continue;
      if (await this.control!.useSubstream(cam, true)) {
        this.record(cam, 'substream', input);
        return true;
      }
      this.noSubstream.add(cam);
    }
    return false;
  }

  private async stop(cameraId: string, input: DegradeInput): Promise<void> {
    await this.control!.pauseCamera(cameraId);
    this.record(cameraId, 'stopped', input);
  }

  private record(cameraId: string, action: DegradeAction, input: DegradeInput): void {
    this.steps.push({ cameraId, action });
    log.warn(
      { cameraId, action, freeBytes: input.freeBytes, reserveBytes: input.reserveBytes },
      'recording degraded',
    );
    this.emit({
      type: 'recording_degraded',
      cameraId,
      action,
      mode: this.opts.mode,
      freeBytes: input.freeBytes,
      reserveBytes: input.reserveBytes,
      at: input.now,
    });
  }
}
