import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SegmentIndex } from '../../../gateway/recorder/segment-index.js';
import type { RetentionEvent } from '../../../gateway/retention/events.js';
import { RetentionPolicy } from '../../../gateway/retention/policy.js';
import { RetentionSweeper } from '../../../gateway/retention/sweeper.js';
import type { DiskProbe } from '../../../gateway/retention/types.js';
import { DAY, FakeControl, FakeIndex, MemFs, T0 } from './fakes.js';

const CAMS = ['a', 'b', 'c'];

/** A disk probe that reports anything: plenty, nothing, nonsense, or fails. */
const adversarialDisk = fc.oneof(
  fc.record({ freeBytes: fc.double({ noNaN: false }), totalBytes: fc.double({ noNaN: false }) }).map(
    (d): DiskProbe =>
      async () =>
        d,
  ),
  fc.constant<DiskProbe>(async () => ({ freeBytes: 0, totalBytes: 1e12 })),
  fc.constant<DiskProbe>(async () => ({ freeBytes: -1, totalBytes: 1e12 })),
  fc.constant<DiskProbe>(async () => {
    throw new Error('EIO');
  }),
  fc.nat().map(
    (n): DiskProbe =>
      async () => ({ freeBytes: n, totalBytes: n * 2 + 1 }),
  ),
);

const segmentsArb = fc.array(
  fc.record({
    cameraId: fc.constantFrom(...CAMS),
    // ends anywhere from 120 days ago to now (and a few just around the cutoffs)
    endAgoMs: fc.oneof(
      fc.integer({ min: 0, max: 120 * DAY }),
      fc.integer({ min: 30 * DAY - 5, max: 30 * DAY + 5 }),
    ),
    lenMs: fc.integer({ min: 1, max: 3_600_000 }),
    bytes: fc.integer({ min: 1, max: 1e9 }),
  }),
  { maxLength: 80 },
);

const policyArb = fc.record({
  siteDays: fc.integer({ min: 30, max: 60 }),
  overrides: fc.dictionary(fc.constantFrom(...CAMS), fc.integer({ min: 30, max: 100 })),
});

describe('retention sweeper properties', () => {
  it('never deletes a segment younger than the policy, whatever the disk reports or the index returns; deletes every expired one', async () => {
    await fc.assert(
      fc.asyncProperty(
        segmentsArb,
        policyArb,
        adversarialDisk,
        fc.boolean(),
        fc.constantFrom('stop_lowest_priority', 'reduce_to_substream', 'stop_all') as fc.Arbitrary<
          'stop_lowest_priority' | 'reduce_to_substream' | 'stop_all'
        >,
        fc.integer({ min: 1, max: 7 }),
        async (segs, pol, disk, lying, mode, batchSize) => {
          const now = T0 + 200 * DAY;
          const index = new FakeIndex();
          const fs = new MemFs();
          segs.forEach((s, i) => {
            const path = `/rec/${s.cameraId}/${i}.mp4`;
            const endMs = now - s.endAgoMs;
            index.add({ cameraId: s.cameraId, path, startMs: endMs - s.lenMs, endMs, bytes: s.bytes });
            fs.put(path, s.cameraId, endMs, s.bytes);
          });
          const before = [...index.rows.values()];
          if (lying) index.lies = (cam) => before.filter((r) => r.cameraId === cam); // returns young rows too
          const policy = RetentionPolicy.from({ siteDays: pol.siteDays, cameras: pol.overrides });
          const events: RetentionEvent[] = [];
          const control = new FakeControl(new Set(['a']));
          const sweeper = new RetentionSweeper({
            index,
            fs,
            rootDir: '/rec',
            policy: () => policy,
            onEvent: (e) => events.push(e),
            now: () => now,
            diskFree: disk,
            control,
            degradation: mode,
            reserveBytes: 1e15,
            batchSize,
          });
          await sweeper.sweep();
          await sweeper.sweep(); // a second pass (degradation steps) changes nothing either
          for (const seg of before) {
            const expired = seg.endMs < now - policy.daysFor(seg.cameraId) * DAY;
            expect(fs.files.has(seg.path)).toBe(!expired);
            expect(index.rows.has(seg.id)).toBe(!expired);
          }
          for (const p of fs.unlinked) {
            const seg = before.find((s) => s.path === p)!;
            expect(seg.endMs).toBeLessThan(now - 30 * DAY);
          }
          expect(control.calls.every((c) => /^(pause|resume|substream):/.test(c))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('raises retention_at_risk at least a day before the disk can no longer take the footage the policy needs', async () => {
    let failures = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1_000, max: 10_000 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 70, maxLength: 70 }), // daily growth in ‰
        fc.integer({ min: 3, max: 60 }), // disk size in days of initial total rate
        fc.integer({ min: 30, max: 35 }),
        async (rates0, growth, diskDays, days) => {
          const db = new Database(':memory:');
          try {
            const index = new SegmentIndex(db);
            const fs = new MemFs();
            const policy = RetentionPolicy.from({ siteDays: days });
            const rates = [...rates0];
            const capacity = diskDays * rates0.reduce((s, r) => s + r, 0) * 1.1;
            let now = T0;
            const events: Array<RetentionEvent & { day: number }> = [];
            let failedDay: number | undefined;
            const sweeper = new RetentionSweeper({
              index,
              fs,
              rootDir: '/rec',
              policy: () => policy,
              onEvent: (e) => events.push({ ...e, day: (now - T0) / DAY }),
              now: () => now,
              diskFree: async () => ({ freeBytes: capacity - fs.bytes(), totalBytes: capacity }),
              reserveBytes: 0,
              marginDays: 2,
            });
            for (let day = 0; day < 70; day++) {
              now = T0 + day * DAY;
              await sweeper.sweep();
              const need = rates.reduce((s, x) => s + x, 0);
              if (capacity - fs.bytes() < need) {
                failedDay = day; // the day's footage cannot be written: the floor would break
                break;
              }
              rates.forEach((rate, i) => {
                const path = `/rec/c${i}/${day}.mp4`;
                index.add({ cameraId: `c${i}`, path, startMs: now, endMs: now + DAY, bytes: rate });
                fs.put(path, `c${i}`, now + DAY, rate);
                rates[i] = rate * (1 + growth[day]! / 1000);
              });
            }
            runs++;
            if (failedDay !== undefined) {
              failures++;
              const warned = events.find((e) => e.type === 'retention_at_risk');
              expect(warned, `failed on day ${failedDay} without warning`).toBeDefined();
              expect(warned!.day).toBeLessThanOrEqual(failedDay - 1);
            }
          } finally {
            db.close();
          }
        },
      ),
      { numRuns: 60 },
    );
    // the property was exercised, not vacuous (how many generated disks run out varies with the seed)
    expect(failures).toBeGreaterThan(runs / 5);
  });

  it('raises no alarm on a disk that holds policy + margin days and recycles, and reports ok after an alarm clears', async () => {
    const index = new FakeIndex();
    const fs = new MemFs();
    const policy = RetentionPolicy.from({ siteDays: 30 });
    let now = T0;
    let capacity = 33 * 1000;
    const events: RetentionEvent[] = [];
    const sweeper = new RetentionSweeper({
      index,
      fs,
      rootDir: '/rec',
      policy: () => policy,
      onEvent: (e) => events.push(e),
      now: () => now,
      diskFree: async () => ({ freeBytes: capacity - fs.bytes(), totalBytes: capacity }),
      reserveBytes: 0,
    });
    for (let day = 0; day < 80; day++) {
      now = T0 + day * DAY;
      if (day === 50) capacity = 31 * 1000; // a disk shrinks (another volume's data): at risk
      if (day === 60) capacity = 40 * 1000; // a bigger disk: ok again
      await sweeper.sweep();
      index.add({ cameraId: 'a', path: `/a/${day}`, startMs: now, endMs: now + DAY, bytes: 1000 });
      fs.put(`/a/${day}`, 'a', now + DAY, 1000);
    }
    const kinds = events.filter((e) => e.type.startsWith('retention_')).map((e) => e.type);
    expect(kinds).toEqual(['retention_at_risk', 'retention_ok']);
    const risk = events.find((e) => e.type === 'retention_at_risk') as Extract<
      RetentionEvent,
      { type: 'retention_at_risk' }
    >;
    expect(risk.policyDays).toBe(30);
    expect(risk.forecastDays).toBeLessThan(32);
  });
});
