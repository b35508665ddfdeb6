import { CarewatchError } from '../../lib/errors.js';
import type { CountBucket, HeartbeatGap, TelemetrySample } from './types.js';

export const HOUR_MS = 3_600_000;

/** Start of the bucket holding `t`, aligned to the epoch (as InfluxDB's GROUP BY time does). */
export const bucketStart = (t: number, bucketMs: number): number => Math.floor(t / bucketMs) * bucketMs;

export function checkRange(sinceMs: number, untilMs: number, bucketMs = HOUR_MS): void {
  if (!Number.isFinite(sinceMs) || !Number.isFinite(untilMs) || untilMs < sinceMs) {
    throw new CarewatchError('TIMESERIES_BAD_RANGE', `bad time range [${sinceMs}, ${untilMs})`, {
      sinceMs,
      untilMs,
    });
  }
  // whole seconds: event points are summed per second, so a bucket edge inside a second would split one
  if (!Number.isInteger(bucketMs) || bucketMs < 1000 || bucketMs % 1000 !== 0) {
    throw new CarewatchError(
      'TIMESERIES_BAD_BUCKET',
      `bucket must be a whole number of seconds, in ms (a multiple of 1000): ${bucketMs}`,
    );
  }
  if ((untilMs - sinceMs) / bucketMs > 100_000) {
    throw new CarewatchError('TIMESERIES_TOO_MANY_BUCKETS', 'more than 100000 buckets requested', {
      sinceMs,
      untilMs,
      bucketMs,
    });
  }
}

/** Every bucket of [since, until) with its count, zero where nothing was counted. */
export function fillBuckets(
  counts: Map<number, number>,
  sinceMs: number,
  untilMs: number,
  bucketMs = HOUR_MS,
): CountBucket[] {
  const out: CountBucket[] = [];
  for (let t = bucketStart(sinceMs, bucketMs); t < untilMs; t += bucketMs) {
    out.push({ t, count: counts.get(t) ?? 0 });
  }
  return out;
}

/** Gaps longer than `minGapMs` between consecutive heartbeats of each gateway. */
export function findGaps(samples: TelemetrySample[], minGapMs: number): HeartbeatGap[] {
  const last = new Map<string, TelemetrySample>();
  const gaps: HeartbeatGap[] = [];
  for (const s of [...samples].sort((a, b) => a.t - b.t)) {
    const prev = last.get(s.gatewayId);
    if (prev && s.t - prev.t > minGapMs) {
      gaps.push({
        gatewayId: s.gatewayId,
        from: prev.t,
        to: s.t,
        gapMs: s.t - prev.t,
        restarted: s.uptimeS < prev.uptimeS,
      });
    }
    last.set(s.gatewayId, s);
  }
  return gaps;
}
