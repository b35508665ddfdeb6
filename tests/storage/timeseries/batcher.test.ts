import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../lib/clock.js';
import { CarewatchError } from '../../../lib/errors.js';
import { DEFAULT_BATCH, POINTS_REFUSED, PointBatcher } from '../../../storage/timeseries/batcher.js';

const tick = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** A sink that records batch sizes and fails while `down` is true. */
function sink() {
  const s = {
    down: false,
    batches: [] as number[][],
    attempts: 0,
    write: async (points: number[]) => {
      s.attempts++;
      if (s.down) throw new Error('connection refused');
      s.batches.push(points);
    },
  };
  return s;
}

const opts = { ...DEFAULT_BATCH, maxBatch: 100, flushEveryMs: 1000, retryInitialMs: 500, retryMaxMs: 4000 };
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('PointBatcher', () => {
  it('writes in batches of at most maxBatch, a partial batch after flushEveryMs', async () => {
    const clock = new ManualClock();
    const s = sink();
    const b = new PointBatcher<number>(s.write, clock, opts);
    b.write(range(0, 250));
    await tick();
    expect(s.batches.map((x) => x.length)).toEqual([100, 100, 50]);
    b.write(range(250, 30));
    await tick();
    expect(s.batches).toHaveLength(3);
    clock.advance(1000);
    await tick();
    expect(s.batches.map((x) => x.length)).toEqual([100, 100, 50, 30]);
    expect(s.batches.flat()).toEqual(range(0, 280));
    expect(b.stats()).toEqual({ buffered: 0, written: 280, dropped: 0, failedFlushes: 0 });
  });

  it('retries with doubling backoff while the sink fails, losing nothing', async () => {
    const clock = new ManualClock();
    const s = sink();
    const b = new PointBatcher<number>(s.write, clock, opts);
    s.down = true;
    b.write(range(0, 50));
    clock.advance(1000); // first try
    await tick();
    expect(s.attempts).toBe(1);
    for (const wait of [500, 1000, 2000, 4000, 4000]) {
      clock.advance(wait - 1);
      await tick();
      const before = s.attempts;
      clock.advance(1);
      await tick();
      expect(s.attempts).toBe(before + 1);
    }
    b.write(range(50, 200)); // more while down: buffered, not tried before the retry timer
    await tick();
    expect(s.attempts).toBe(6);
    expect(b.stats()).toMatchObject({ buffered: 250, written: 0, dropped: 0, failedFlushes: 6 });
    s.down = false;
    clock.advance(4000);
    await tick();
    expect(s.batches.flat()).toEqual(range(0, 250));
    expect(b.stats()).toEqual({ buffered: 0, written: 250, dropped: 0, failedFlushes: 6 });
  });

  it('flush() rejects with a coded error while the sink fails and keeps the points', async () => {
    const s = sink();
    const b = new PointBatcher<number>(s.write, new ManualClock(), opts);
    s.down = true;
    b.write(range(0, 10));
    await expect(b.flush()).rejects.toMatchObject({ code: 'TIMESERIES_WRITE_FAILED' });
    s.down = false;
    await b.flush();
    expect(s.batches.flat()).toEqual(range(0, 10));
  });

  it('drops the oldest points beyond maxBuffered and counts them', async () => {
    const s = sink();
    const dropped: number[] = [];
    const b = new PointBatcher<number>(s.write, new ManualClock(), { ...opts, maxBuffered: 120 }, (n) =>
      dropped.push(n),
    );
    s.down = true;
    b.write(range(0, 50));
    await expect(b.flush()).rejects.toThrow();
    b.write(range(50, 100));
    expect(b.stats()).toMatchObject({ buffered: 120, dropped: 30 });
    s.down = false;
    await b.flush();
    expect(s.batches.flat()).toEqual(range(30, 120));
    expect(dropped.reduce((a, n) => a + n, 0)).toBe(30);
  });

  it('drops, without retrying, the points a sink refuses for good', async () => {
    const batches: number[][] = [];
    const b = new PointBatcher<number>(
      async (points) => {
        if (points.includes(3)) throw new CarewatchError(POINTS_REFUSED, 'beyond retention', { refused: 1 });
        batches.push(points);
      },
      new ManualClock(),
      { ...opts, maxBatch: 5 },
    );
    b.write(range(0, 12));
    await b.flush();
    expect(batches).toEqual([range(5, 5), range(10, 2)]);
    expect(b.stats()).toEqual({ buffered: 0, written: 11, dropped: 1, failedFlushes: 0 });
  });

  it('counts what it cannot write at stop as dropped', async () => {
    const s = sink();
    const b = new PointBatcher<number>(s.write, new ManualClock(), opts);
    s.down = true;
    b.write(range(0, 7));
    await b.stop();
    expect(b.stats()).toMatchObject({ buffered: 0, written: 0, dropped: 7 });
  });
});
