import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRange } from '../../../central/media/range.js';

describe('parseRange', () => {
  it('reads the forms players send', () => {
    expect(parseRange(undefined, 1000)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=0-', 1000)).toEqual({ kind: 'partial', start: 0, end: 999 });
    expect(parseRange('bytes=100-199', 1000)).toEqual({ kind: 'partial', start: 100, end: 199 });
    expect(parseRange('bytes=900-5000', 1000)).toEqual({ kind: 'partial', start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ kind: 'partial', start: 900, end: 999 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ kind: 'partial', start: 0, end: 999 });
  });

  it('answers what cannot be served with a reason, and ignores invalid or multiple ranges', () => {
    expect(parseRange('bytes=1000-', 1000)).toMatchObject({
      kind: 'unsatisfiable',
      reason: expect.stringContaining('1000'),
    });
    expect(parseRange('bytes=-0', 1000)).toMatchObject({ kind: 'unsatisfiable' });
    expect(parseRange('items=0-1', 1000)).toMatchObject({
      kind: 'unsatisfiable',
      reason: expect.stringContaining('items'),
    });
    expect(parseRange('bytes=5-3', 1000)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=0-1,5-9', 1000)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=0-', 0)).toMatchObject({ kind: 'unsatisfiable' });
  });

  it('never throws, and a partial answer always lies inside the file', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc
            .tuple(fc.option(fc.nat({ max: 10_000 })), fc.option(fc.nat({ max: 10_000 })))
            .map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
          fc
            .tuple(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 10n ** 30n }))
            .map(([a, b]) => `bytes=${a}-${b}`),
        ),
        fc.nat({ max: 5000 }),
        (header, size) => {
          const r = parseRange(header, size);
          if (r.kind === 'partial') {
            expect(r.start).toBeGreaterThanOrEqual(0);
            expect(r.end).toBeGreaterThanOrEqual(r.start);
            expect(r.end).toBeLessThan(size);
          }
          if (r.kind === 'unsatisfiable') expect(r.reason.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('serves exactly the requested bytes when they are inside the file', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.nat(), fc.nat(), (size, x, y) => {
        const a = x % size;
        const b = a + (y % (size - a));
        expect(parseRange(`bytes=${a}-${b}`, size)).toEqual({ kind: 'partial', start: a, end: b });
      }),
    );
  });
});
