import { describe, expect, it } from 'vitest';
import type { RetentionEvent } from '../../../gateway/retention/events.js';
import { RetentionPolicy } from '../../../gateway/retention/policy.js';
import { RetentionSweeper, type SweeperOptions } from '../../../gateway/retention/sweeper.js';
import { DAY, FakeControl, FakeIndex, MemFs, T0 } from './fakes.js';

const HOUR = 3_600_000;

/** Four cameras recording for 10 days (young footage only), 1000 bytes per hour each. */
function site(over: Partial<SweeperOptions> & { free: () => number; control: FakeControl }) {
  const index = new FakeIndex();
  const fs = new MemFs();
  const now = T0 + 10 * DAY;
  for (const cam of ['entrance', 'hall', 'canteen', 'corridor']) {
    for (let t = T0; t < now; t += HOUR) {
      const path = `/rec/${cam}/${t}.mp4`;
      index.add({ cameraId: cam, path, startMs: t, endMs: t + HOUR, bytes: 1000 });
      fs.put(path, cam, t + HOUR, 1000);
    }
  }
  const events: RetentionEvent[] = [];
  const before = fs.files.size;
  const sweeper = new RetentionSweeper({
    index,
    fs,
    rootDir: '/rec',
    policy: () => RetentionPolicy.from({ siteDays: 30 }),
    onEvent: (e) => events.push(e),
    now: () => now,
    diskFree: async () => ({ freeBytes: over.free(), totalBytes: 1e9 }),
    reserveBytes: 10_000,
    priority: ['entrance', 'corridor', 'hall'], // canteen unlisted: least important
    ...over,
  });
  const degraded = () =>
    events.filter(
      (e): e is Extract<RetentionEvent, { type: 'recording_degraded' }> => e.type === 'recording_degraded',
    );
  return { index, fs, events, sweeper, before, degraded };
}

describe('degradation when the disk reserve is reached', () => {
  it('stop_lowest_priority stops one camera per pass, least important first, and deletes nothing young', async () => {
    let free = 5_000;
    const control = new FakeControl();
    const s = site({ free: () => free, control });
    for (let i = 0; i < 5; i++) await s.sweeper.sweep();
    expect(control.calls).toEqual(['pause:canteen', 'pause:hall', 'pause:corridor', 'pause:entrance']);
    expect(s.degraded().map((e) => [e.cameraId, e.action, e.mode])).toEqual([
      ['canteen', 'stopped', 'stop_lowest_priority'],
      ['hall', 'stopped', 'stop_lowest_priority'],
      ['corridor', 'stopped', 'stop_lowest_priority'],
      ['entrance', 'stopped', 'stop_lowest_priority'],
    ]);
    expect(s.degraded()[0]).toMatchObject({ freeBytes: 5_000, reserveBytes: 10_000 });
    expect(s.fs.unlinked).toEqual([]);
    expect(s.fs.files.size).toBe(s.before);
    // space comes back (more disk): restored one per pass, last stopped first
    free = 50_000;
    for (let i = 0; i < 5; i++) await s.sweeper.sweep();
    expect(control.calls.slice(4)).toEqual([
      'resume:entrance',
      'resume:corridor',
      'resume:hall',
      'resume:canteen',
    ]);
    expect(s.events.filter((e) => e.type === 'recording_restored')).toHaveLength(4);
  });

  it('stops stepping once the cameras still recording no longer fill the disk faster than footage expires', async () => {
    const control = new FakeControl();
    const s = site({ free: () => 5_000, control });
    // footage expiring tomorrow: 2.5 cameras' worth of a day (written 30 days ago)
    const cutoff = T0 + 10 * DAY - 30 * DAY;
    for (let t = cutoff; t < cutoff + DAY; t += HOUR) {
      s.index.add({ cameraId: 'old', path: `/rec/old/${t}`, startMs: t + 1, endMs: t + HOUR, bytes: 2500 });
    }
    for (let i = 0; i < 5; i++) await s.sweeper.sweep();
    expect(control.calls).toEqual(['pause:canteen', 'pause:hall']);
  });

  it('reduce_to_substream switches cameras that have a substream first, then stops', async () => {
    const control = new FakeControl(new Set(['hall', 'entrance']));
    const s = site({ free: () => 5_000, control, degradation: 'reduce_to_substream' });
    for (let i = 0; i < 4; i++) await s.sweeper.sweep();
    expect(control.calls).toEqual([
      'substream:hall:true',
      'substream:entrance:true',
      'pause:canteen',
      'pause:hall',
    ]);
    expect(s.degraded().map((e) => e.action)).toEqual(['substream', 'substream', 'stopped', 'stopped']);
    expect(s.fs.unlinked).toEqual([]);
  });

  it('stop_all stops every camera in one pass', async () => {
    const control = new FakeControl();
    const s = site({ free: () => 5_000, control, degradation: 'stop_all' });
    await s.sweeper.sweep();
    expect(control.calls.sort()).toEqual(['pause:canteen', 'pause:corridor', 'pause:entrance', 'pause:hall']);
    expect(s.fs.unlinked).toEqual([]);
  });

  it('without a recording control it only reports the reserve, once', async () => {
    const s = site({ free: () => 5_000, control: undefined as never });
    await s.sweeper.sweep();
    await s.sweeper.sweep();
    expect(s.events.filter((e) => e.type === 'disk_reserve_reached')).toHaveLength(1);
    expect(s.fs.unlinked).toEqual([]);
  });

  it('reports a failing or nonsensical disk probe once and still expires old footage', async () => {
    const index = new FakeIndex();
    const fs = new MemFs();
    const now = T0 + 100 * DAY;
    index.add({ cameraId: 'a', path: '/old', startMs: T0, endMs: T0 + HOUR, bytes: 1 });
    index.add({ cameraId: 'a', path: '/young', startMs: now - HOUR, endMs: now, bytes: 1 });
    fs.put('/old', 'a', T0 + HOUR);
    fs.put('/young', 'a', now);
    const events: RetentionEvent[] = [];
    const sw = new RetentionSweeper({
      index,
      fs,
      rootDir: '/rec',
      policy: () => RetentionPolicy.from({ siteDays: 30 }),
      onEvent: (e) => events.push(e),
      now: () => now,
      diskFree: async () => ({ freeBytes: Number.NaN, totalBytes: 0 }),
    });
    const r = await sw.sweep();
    await sw.sweep();
    expect(r.deleted).toBe(1);
    expect(fs.unlinked).toEqual(['/old']);
    expect(events.filter((e) => e.type === 'disk_probe_failed')).toHaveLength(1);
    expect(r.forecast).toBeUndefined();
  });
});
