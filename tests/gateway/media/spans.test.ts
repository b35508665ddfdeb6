import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordingSpans } from '../../../gateway/media/spans.js';

const seg = (startMs: number, endMs: number, bytes = 10) => ({
  id: startMs,
  cameraId: 'c',
  path: `/${startMs}`,
  startMs,
  endMs,
  bytes,
});

describe('recordingSpans', () => {
  it('joins touching segments and splits at gaps', () => {
    const r = recordingSpans([seg(0, 1000), seg(1000, 2000), seg(2500, 3500), seg(9000, 10_000)], 600, 10);
    expect(r.spans).toEqual([
      { fromMs: 0, toMs: 3500, segments: 3, bytes: 30 },
      { fromMs: 9000, toMs: 10_000, segments: 1, bytes: 10 },
    ]);
    expect(r.truncated).toBe(false);
  });

  it('covers every segment exactly once, in order, and stops at the span limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 100_000 }), fc.integer({ min: 1, max: 5000 })), { maxLength: 80 }),
        fc.integer({ min: 1, max: 20 }),
        (raw, max) => {
          const segs = raw.map(([s, len]) => seg(s, s + len));
          const r = recordingSpans(segs, 500, max);
          expect(r.spans.length).toBeLessThanOrEqual(max);
          for (let i = 1; i < r.spans.length; i++)
            expect(r.spans[i]!.fromMs).toBeGreaterThan(r.spans[i - 1]!.toMs + 500);
          const counted = r.spans.reduce((n, s) => n + s.segments, 0);
          if (!r.truncated) expect(counted).toBe(segs.length);
          else expect(counted).toBeLessThan(segs.length);
        },
      ),
    );
  });
});
