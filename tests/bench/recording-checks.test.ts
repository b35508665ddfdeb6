import { describe, expect, it } from 'vitest';
import { type CamLog, judgeWindow } from '../../bench/recording-checks.js';

const SEG = 5000;
const T0 = 1_000_000;
const T1 = T0 + 15_000;

/** A camera that indexes a `ms`-long segment of `bytes` at each of `times`. */
function cam(times: number[], ms = SEG, bytes = 1_875_000): CamLog {
  return { indexedAt: times, segments: times.map((at) => ({ at, ms, bytes })) };
}

describe('recording ramp window checks', () => {
  it('holds when every camera indexes full segments on time, and computes the bit rate', () => {
    const logs = new Map([
      ['cam-0', cam([T0 - 2000, T0 + 3000, T0 + 8000, T0 + 13_000])],
      ['cam-1', cam([T0 - 500, T0 + 4500, T0 + 9500, T0 + 14_500])],
    ]);
    const v = judgeWindow(['cam-0', 'cam-1'], logs, [], T0, T1, SEG);
    expect(v.reasons).toEqual([]);
    expect(v.segments).toBe(6);
    expect(v.mbitPerStream).toBeCloseTo(3, 6); // 1,875,000 B per 5 s
    expect(v.maxIntervalS).toBeCloseTo(5, 6);
  });

  it('flags a camera whose segments come late, one that is silent, and segments of the wrong length', () => {
    const logs = new Map([
      ['cam-0', cam([T0 + 1000, T0 + 10_000])], // 9 s between two segments: late
      ['cam-1', cam([T0 + 2000, T0 + 7000, T0 + 12_000], 2000)], // on time but 2 s long
    ]);
    const v = judgeWindow(['cam-0', 'cam-1', 'cam-2'], logs, [], T0, T1, SEG);
    expect(v.reasons).toContain('2 cameras late (max interval 15.0 s)'); // cam-2 indexed nothing
    expect(v.reasons).toContain('3 segments of the wrong length');
  });

  it('counts bad events inside the window only, per type and camera', () => {
    const logs = new Map([['cam-0', cam([T0 + 1000, T0 + 6000, T0 + 11_000])]]);
    const bad = [
      { at: T0 - 1, type: 'recording_stalled', cameraId: 'cam-0' },
      { at: T0 + 10, type: 'recording_stalled', cameraId: 'cam-0' },
      { at: T0 + 20, type: 'recording_stalled', cameraId: 'cam-0' },
      { at: T0 + 30, type: 'recording_exited', cameraId: 'cam-1' },
    ];
    const v = judgeWindow(['cam-0'], logs, bad, T0, T1, SEG);
    expect(v.reasons).toEqual(['recording_stalled on 1 cameras', 'recording_exited on 1 cameras']);
  });
});
