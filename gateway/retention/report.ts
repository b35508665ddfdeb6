/**
 * Per-camera retention compliance summary for the gateway's inventory message:
 * what is really kept, how continuous it is over the policy window, the
 * measured bitrate and the capacity forecast.
 */
import type { Gap, SegmentIndex } from '../recorder/segment-index.js';
import type { Forecast } from './forecast.js';
import { DAY_MS, type RetentionPolicy } from './policy.js';

export interface CameraCompliance {
  cameraId: string;
  policyDays: number;
  oldestKeptMs: number | null;
  /** Days between the oldest kept footage and now. */
  daysKept: number;
  /** Covered share of the policy window, in percent (0..100). */
  continuityPct: number;
  gaps: Gap[];
  bytesPerDay: number;
  /** Days of footage the disk supports at the measured rates (site-wide), null without a forecast. */
  forecastDays: number | null;
  /** Footage reaches back the full policy window. */
  retentionMet: boolean;
}

export interface ComplianceInput {
  index: Pick<SegmentIndex, 'oldest' | 'continuity' | 'bytesPerDay' | 'cameras'>;
  policy: RetentionPolicy;
  now: number;
  cameras?: string[];
  forecast?: Forecast;
  measureDays?: number;
  /** Holes shorter than this count as covered (segment boundaries, default 2 s). */
  toleranceMs?: number;
  /** At most this many gaps listed per camera (the most recent; default 50). */
  maxGaps?: number;
}

export function complianceReport(input: ComplianceInput): CameraCompliance[] {
  const ids = [...new Set([...(input.cameras ?? []), ...input.index.cameras()])].sort();
  const fd = input.forecast?.forecastDays;
  return ids.map((cameraId) => {
    const days = input.policy.daysFor(cameraId);
    const from = input.now - days * DAY_MS;
    const oldest = input.index.oldest(cameraId);
    const c = input.index.continuity(cameraId, from, input.now, input.toleranceMs ?? 2000);
    const daysKept = oldest ? Math.max(0, (input.now - oldest.startMs) / DAY_MS) : 0;
    return {
      cameraId,
      policyDays: days,
      oldestKeptMs: oldest?.startMs ?? null,
      daysKept: Math.round(daysKept * 100) / 100,
      continuityPct: Math.round(c.ratio * 10_000) / 100,
      gaps: c.gaps.slice(-(input.maxGaps ?? 50)),
      bytesPerDay: Math.round(input.index.bytesPerDay(cameraId, input.measureDays ?? 7, input.now)),
      forecastDays: fd === undefined ? null : Number.isFinite(fd) ? Math.round(fd * 10) / 10 : null,
      retentionMet: daysKept >= days,
    };
  });
}
