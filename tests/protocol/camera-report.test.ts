/** The camera entry of the inventory, as the central's coverage check accepts it. */
import { describe, expect, it } from 'vitest';
import { type CameraReport, isCameraReport } from '../../protocol/index.js';

const report = (over: Record<string, unknown> = {}): CameraReport & Record<string, unknown> => ({
  deviceId: 'cam-1',
  type: 'camera',
  zone: 'entrance',
  online: true,
  recording: true,
  oldestKeptAt: '2026-11-01T00:00:00.000Z',
  continuityPct: 99.5,
  policyDays: 30,
  forecastDays: 41.2,
  ...over,
});

describe('camera report', () => {
  it('carries the free and total bytes of the recordings volume', () => {
    expect(isCameraReport(report({ diskFreeBytes: 0, diskTotalBytes: 4e12 }))).toBe(true);
    expect(isCameraReport(report({ diskFreeBytes: 123_456_789_012, diskTotalBytes: 4e12 }))).toBe(true);
  });

  it('still accepts a report without them (a gateway before the field, or an unreadable volume)', () => {
    expect(isCameraReport(report())).toBe(true);
  });

  it('refuses negative, fractional or non-numeric figures and a zero total', () => {
    for (const bad of [
      { diskFreeBytes: -1 },
      { diskFreeBytes: 1.5 },
      { diskFreeBytes: '100' },
      { diskTotalBytes: 0 },
      { diskTotalBytes: null },
    ]) {
      expect(isCameraReport(report(bad)), JSON.stringify(bad)).toBe(false);
    }
  });
});
