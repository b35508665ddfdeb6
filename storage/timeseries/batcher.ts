import type { Clock } from '../../lib/clock.js';
import { CarewatchError, errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import type { Point, WriteStats } from './types.js';

const log = logger('storage:timeseries');

export interface BatchOptions {
  /** Flush as soon as this many points are buffered, and write at most this many per request. */
  maxBatch: number;
  /** Flush what is buffered this long after the first unflushed point. */
  flushEveryMs: number;
  /** Beyond this many buffered points the oldest are dropped (and counted). */
  maxBuffered: number;
  /** Retry delay after a failed write: doubles from `retryInitialMs` up to `retryMaxMs`. */
  retryInitialMs: number;
  retryMaxMs: number;
}

export const DEFAULT_BATCH: BatchOptions = {
  maxBatch: 500,
  flushEveryMs: 1000,
  maxBuffered: 100_000,
  retryInitialMs: 500,
  retryMaxMs: 30_000,
};

export type Sink<T> = (points: T[]) => Promise<void>;

/**
 * A sink throws this when the backend refused points for good (outside the
 * retention policy, a field type conflict): retrying cannot help, so they are
 * counted as dropped. `details.refused`: how many of the batch (default all).
 */
export const POINTS_REFUSED = 'TIMESERIES_POINTS_REFUSED';

function isRefusal(err: unknown): err is CarewatchError & { details?: { refused?: number } } {
  return err instanceof CarewatchError && err.code === POINTS_REFUSED;
}

/**
 * Buffers points and writes them in batches through a sink. A failed batch
 * goes back to the front of the buffer and is retried with exponential
 * backoff; nothing is lost until the buffer is full, then the oldest points
 * are dropped and counted. A retried batch carries the same timestamps, so a
 * write that succeeded but was reported failed does not count twice.
 */
export class PointBatcher<T = Point> {
  private buffer: T[] = [];
  private inflight = 0;
  private running: Promise<void> | null = null;
  private timer: { cancel(): void } | null = null;
  private retryAt: number | null = null;
  private retryDelay: number;
  private lastError: unknown = null;
  private stopped = false;
  private readonly counts = { written: 0, dropped: 0, failedFlushes: 0 };

  constructor(
    private readonly sink: Sink<T>,
    private readonly clock: Clock,
    private readonly opts: BatchOptions = DEFAULT_BATCH,
    private readonly onDrop: (n: number) => void = () => {},
  ) {
    this.retryDelay = opts.retryInitialMs;
  }

  write(points: T[]): void {
    if (points.length === 0) return;
    if (this.stopped) {
      this.drop(points.length, 'write after stop');
      return;
    }
    this.buffer.push(...points);
    this.trim();
    if (this.retryAt !== null) return; // backing off: the retry timer flushes
    if (this.buffer.length >= this.opts.maxBatch) void this.cycle().catch(() => {});
    else this.arm(this.opts.flushEveryMs);
  }

  /** Writes everything buffered; rejects with the sink's failure (points kept, retry scheduled). */
  async flush(): Promise<void> {
    this.cancelTimer();
    this.retryAt = null;
    while (this.running) await this.running.catch(() => {});
    if (this.buffer.length === 0) return;
    await this.cycle();
  }

  /** One last attempt; what cannot be written is counted as dropped. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.flush();
    } catch (err) {
      log.error({ err: errorMessage(err), lost: this.buffer.length }, 'time series: points lost at stop');
    }
    this.stopped = true;
    this.cancelTimer();
    if (this.buffer.length > 0) this.drop(this.buffer.length, 'unwritten at stop');
    this.buffer = [];
  }

  stats(): WriteStats {
    return { buffered: this.buffer.length + this.inflight, ...this.counts };
  }

  private cycle(): Promise<void> {
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async drain(): Promise<void> {
    this.cancelTimer();
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.opts.maxBatch);
      this.inflight = batch.length;
      try {
        await this.sink(batch);
      } catch (err) {
        this.inflight = 0;
        if (isRefusal(err)) {
          // the backend will never take these points: retrying would block everything behind them
          const refused = Math.min(batch.length, err.details?.refused ?? batch.length);
          this.counts.written += batch.length - refused;
          this.drop(refused, `refused by the backend: ${err.message}`);
          continue;
        }
        this.buffer.unshift(...batch);
        this.trim();
        this.failed(err);
        throw new CarewatchError(
          'TIMESERIES_WRITE_FAILED',
          `time series write failed: ${errorMessage(err)}`,
          { buffered: this.buffer.length },
          { cause: err },
        );
      }
      this.inflight = 0;
      this.counts.written += batch.length;
      if (this.lastError !== null) {
        log.info({ failedFlushes: this.counts.failedFlushes }, 'time series writes recovered');
        this.lastError = null;
      }
      this.retryDelay = this.opts.retryInitialMs;
    }
  }

  private failed(err: unknown): void {
    this.counts.failedFlushes++;
    if (this.lastError === null) {
      log.warn(
        { err: errorMessage(err), buffered: this.buffer.length },
        'time series write failed; retrying',
      );
    }
    this.lastError = err;
    if (this.stopped) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.retryMaxMs);
    this.retryAt = this.clock.now() + delay;
    this.arm(delay, true);
  }

  private arm(ms: number, force = false): void {
    if (this.timer && !force) return;
    this.cancelTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.retryAt = null;
      void this.cycle().catch(() => {});
    }, ms);
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private trim(): void {
    const over = this.buffer.length + this.inflight - this.opts.maxBuffered;
    const n = Math.min(over, this.buffer.length);
    if (n > 0) {
      this.buffer.splice(0, n);
      this.drop(n, 'buffer full');
    }
  }

  private drop(n: number, reason: string): void {
    if (this.counts.dropped === 0 || reason !== 'buffer full') {
      log.warn({ dropped: n, reason }, 'time series points dropped');
    }
    this.counts.dropped += n;
    this.onDrop(n);
  }
}
