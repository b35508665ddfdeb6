import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RECENT_WINDOW_MS, RecentIds } from '../../../ingest/pipeline/dedup.js';

describe('RecentIds', () => {
  it('keeps at most `capacity` ids, the newest', () => {
    const r = new RecentIds(3, RECENT_WINDOW_MS, () => 0);
    for (const id of ['a', 'b', 'c', 'd', 'e']) r.add(id);
    expect(['a', 'b', 'c', 'd', 'e'].map((id) => r.has(id))).toEqual([false, false, true, true, true]);
    expect(r.size).toBe(3);
  });

  it('forgets ids older than the window, even when far below capacity', () => {
    let now = 0;
    const r = new RecentIds(100_000, 10 * 60_000, () => now);
    r.add('a');
    now = 5 * 60_000;
    r.add('b');
    now = 10 * 60_000 + 1; // 'a' is now older than 10 min
    r.add('c');
    expect([r.has('a'), r.has('b'), r.has('c')]).toEqual([false, true, true]);
    expect(r.size).toBe(2);
  });

  it('matches the model over long runs too (its queue compacted many times over)', () => {
    const pool = 'abcdefghijkl';
    const op = fc.record({ id: fc.constantFrom(...pool), dt: fc.integer({ min: 0, max: 5 }) });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 15 }),
        fc.array(op, { minLength: 1500, maxLength: 4000 }),
        (capacity, ops) => {
          let now = 0;
          const r = new RecentIds(capacity, 200, () => now);
          const last = new Map<string, number>();
          for (const [i, o] of ops.entries()) {
            now += o.dt;
            r.add(o.id);
            last.delete(o.id);
            last.set(o.id, now);
            const expected = [...last]
              .filter(([, at]) => at >= now - 200)
              .slice(-capacity)
              .map(([id]) => id);
            for (const id of pool) expect(r.has(id), `${id} at op ${i}`).toBe(expected.includes(id));
          }
        },
      ),
      { numRuns: 30, endOnFailure: true }, // shrinking thousands of operations takes minutes
    );
  });

  it('holds the newest 100,000 of 300,000 distinct ids', () => {
    const r = new RecentIds(100_000, RECENT_WINDOW_MS, () => 0);
    for (let i = 0; i < 300_000; i++) r.add(`id-${i}`);
    expect(r.size).toBe(100_000);
    expect([r.has('id-199999'), r.has('id-200000'), r.has('id-299999')]).toEqual([false, true, true]);
  });

  it('matches a model: the ids added within the window, at most the newest `capacity` of them', () => {
    const op = fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'),
      dt: fc.integer({ min: 0, max: 400 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        let now = 0;
        const r = new RecentIds(capacity, 1000, () => now);
        const last = new Map<string, number>(); // model: id → time of its last add, in add order
        for (const o of ops) {
          now += o.dt;
          r.add(o.id);
          last.delete(o.id); // the model's order is the order of last adds
          last.set(o.id, now);
          const expected = [...last]
            .filter(([, at]) => at >= now - 1000)
            .slice(-capacity)
            .map(([id]) => id);
          for (const id of 'abcdefg') expect(r.has(id), `${id} at ${now}`).toBe(expected.includes(id));
        }
      }),
      { numRuns: 500 },
    );
  });
});
