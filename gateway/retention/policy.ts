/**
 * Retention policy: days of footage kept per site, with per-camera overrides.
 * 30 days is a hard floor (视频监控记录保存时间不少于30天; State Council Decree
 * 799): a lower, non-integer or non-numeric value is refused, both in the
 * configuration and in a policy command from central.
 */
import { ConfigError } from '../../lib/errors.js';
import { isValidId } from '../../protocol/ids.js';

export const RETENTION_FLOOR_DAYS = 30;
/** Upper bound against typos (10 years). */
export const RETENTION_MAX_DAYS = 3650;
export const DAY_MS = 86_400_000;

/** A retention value below the 30-day floor (code `RETENTION_BELOW_FLOOR`). */
export class RetentionBelowFloorError extends ConfigError {
  override readonly code = 'RETENTION_BELOW_FLOOR';
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, details);
    this.name = 'RetentionBelowFloorError';
  }
}

/** A retention value that is not a whole number of days in range (code `RETENTION_INVALID`). */
export class RetentionInvalidError extends ConfigError {
  override readonly code = 'RETENTION_INVALID';
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, details);
    this.name = 'RetentionInvalidError';
  }
}

/** Checks one retention value; `where` names it in the message (e.g. `cameras.cam-1`). */
export function checkRetentionDays(days: unknown, where: string): number {
  const n = typeof days === 'number' ? days : Number.NaN;
  if (!(n >= RETENTION_FLOOR_DAYS)) {
    throw new RetentionBelowFloorError(
      `${where}: retention of ${JSON.stringify(days)} days refused: the regulation requires video records to be kept at least ${RETENTION_FLOOR_DAYS} days (视频监控记录保存时间不少于${RETENTION_FLOOR_DAYS}天)`,
      { where, days, floorDays: RETENTION_FLOOR_DAYS },
    );
  }
  if (!Number.isInteger(n) || n > RETENTION_MAX_DAYS) {
    throw new RetentionInvalidError(
      `${where}: retention must be a whole number of days between ${RETENTION_FLOOR_DAYS} and ${RETENTION_MAX_DAYS}, got ${JSON.stringify(days)}`,
      { where, days },
    );
  }
  return n;
}

export interface RetentionPolicyConfig {
  /** Days kept for every camera of the site (>= 30). */
  siteDays: number;
  /** Per-camera overrides (each >= 30). */
  cameras?: Record<string, number>;
}

export class RetentionPolicy {
  private constructor(
    readonly siteDays: number,
    private readonly overrides: ReadonlyMap<string, number>,
  ) {}

  /** Validates a policy; throws `RetentionBelowFloorError` / `RetentionInvalidError` / `ConfigError`. */
  static from(cfg: RetentionPolicyConfig): RetentionPolicy {
    if (typeof cfg !== 'object' || cfg === null) throw new ConfigError('retention: policy must be an object');
    const site = checkRetentionDays(cfg.siteDays, 'retention.siteDays');
    const map = new Map<string, number>();
    for (const [cam, days] of Object.entries(cfg.cameras ?? {})) {
      if (!isValidId(cam))
        throw new ConfigError(`retention.cameras: invalid camera id ${JSON.stringify(cam)}`);
      map.set(cam, checkRetentionDays(days, `retention.cameras.${cam}`));
    }
    return new RetentionPolicy(site, map);
  }

  /** Days kept for a camera (its override, else the site's). Never below the floor. */
  daysFor(cameraId: string): number {
    return Math.max(RETENTION_FLOOR_DAYS, this.overrides.get(cameraId) ?? this.siteDays);
  }

  /** Segments of the camera ending before this instant are expired. */
  cutoffFor(cameraId: string, nowMs: number): number {
    return nowMs - this.daysFor(cameraId) * DAY_MS;
  }

  /** The longest retention of the site. */
  maxDays(): number {
    return Math.max(this.siteDays, ...this.overrides.values());
  }

  toJSON(): RetentionPolicyConfig {
    return { siteDays: this.siteDays, cameras: Object.fromEntries(this.overrides) };
  }
}
