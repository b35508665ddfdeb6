import { describe, expect, it } from 'vitest';
import {
  checkRetentionDays,
  RETENTION_FLOOR_DAYS,
  RetentionBelowFloorError,
  RetentionPolicy,
} from '../../../gateway/retention/policy.js';
import { ConfigError } from '../../../lib/errors.js';

describe('retention policy', () => {
  it('refuses anything below 30 days with RETENTION_BELOW_FLOOR and the regulation in the message', () => {
    for (const bad of [
      29,
      0,
      -30,
      29.999,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      undefined,
      null,
      '30',
      '45',
    ]) {
      let err: unknown;
      try {
        RetentionPolicy.from({ siteDays: bad as number });
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).toBeInstanceOf(RetentionBelowFloorError);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('RETENTION_BELOW_FLOOR');
      expect((err as Error).message).toContain('at least 30 days');
      expect((err as Error).message).toContain('视频监控记录保存时间不少于30天');
    }
  });

  it('refuses per-camera overrides below the floor, naming the camera', () => {
    expect(() => RetentionPolicy.from({ siteDays: 60, cameras: { 'cam-2': 7 } })).toThrow(
      /retention\.cameras\.cam-2/,
    );
    expect(() => RetentionPolicy.from({ siteDays: 60, cameras: { 'cam-2': 7 } })).toThrow(
      RetentionBelowFloorError,
    );
  });

  it('refuses non-integer and absurd values with RETENTION_INVALID', () => {
    for (const bad of [30.5, Number.POSITIVE_INFINITY, 100_000]) {
      try {
        checkRetentionDays(bad, 'x');
        expect.unreachable();
      } catch (e) {
        expect((e as ConfigError).code).toBe('RETENTION_INVALID');
        expect(e).toBeInstanceOf(ConfigError);
      }
    }
  });

  it('applies site days with per-camera overrides; cutoffs are never closer than 30 days', () => {
    const p = RetentionPolicy.from({ siteDays: 30, cameras: { gate: 90 } });
    expect(p.daysFor('hall')).toBe(30);
    expect(p.daysFor('gate')).toBe(90);
    expect(p.maxDays()).toBe(90);
    expect(p.cutoffFor('hall', 100 * 86_400_000)).toBe(70 * 86_400_000);
    expect(RETENTION_FLOOR_DAYS).toBe(30);
    expect(p.toJSON()).toEqual({ siteDays: 30, cameras: { gate: 90 } });
  });
});
