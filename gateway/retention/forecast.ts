/**
 * Capacity forecast: how many days of footage the disk can hold at the
 * measured recording rates, compared with the policy.
 *
 *   available    = free − reserve + bytes already kept (kept footage is recycled as it expires)
 *   forecastDays = available / Σ bytesPerDay(camera)
 *   at risk      ⇔ available < Σ bytesPerDay(camera) × (policyDays(camera) + margin)
 *
 * In steady state (every camera at its policy) the disk holds `kept` plus the
 * free space, so a nearly full disk that recycles correctly is not at risk,
 * while a young installation whose disk will fill before day 30 is.
 */
import type { RetentionPolicy } from './policy.js';

export interface CameraRate {
  cameraId: string;
  bytesPerDay: number;
}

export interface Forecast {
  freeBytes: number;
  totalBytes: number;
  keptBytes: number;
  reserveBytes: number;
  bytesPerDay: number;
  availableBytes: number;
  requiredBytes: number;
  /** Days of footage the disk supports for every camera (Infinity without recording). */
  forecastDays: number;
  policyDays: number;
  marginDays: number;
  atRisk: boolean;
}

export function forecast(input: {
  freeBytes: number;
  totalBytes: number;
  keptBytes: number;
  reserveBytes: number;
  rates: CameraRate[];
  policy: RetentionPolicy;
  marginDays: number;
}): Forecast {
  const bpd = input.rates.reduce((s, r) => s + Math.max(0, r.bytesPerDay), 0);
  const available = Math.max(0, input.freeBytes - input.reserveBytes + input.keptBytes);
  const required = input.rates.reduce(
    (s, r) => s + Math.max(0, r.bytesPerDay) * (input.policy.daysFor(r.cameraId) + input.marginDays),
    0,
  );
  const policyDays = input.rates.length
    ? Math.max(...input.rates.map((r) => input.policy.daysFor(r.cameraId)))
    : input.policy.maxDays();
  return {
    freeBytes: input.freeBytes,
    totalBytes: input.totalBytes,
    keptBytes: input.keptBytes,
    reserveBytes: input.reserveBytes,
    bytesPerDay: bpd,
    availableBytes: available,
    requiredBytes: required,
    forecastDays: bpd > 0 ? available / bpd : Number.POSITIVE_INFINITY,
    policyDays,
    marginDays: input.marginDays,
    atRisk: bpd > 0 && available < required,
  };
}
