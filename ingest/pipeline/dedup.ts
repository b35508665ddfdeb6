import type { Step } from './types.js';

/** How long an id stays in the fast path (resends after a lost PUBACK come within seconds). */
export const RECENT_WINDOW_MS = 10 * 60_000;

/**
 * Fast path for redeliveries: ids seen recently are answered from memory.
 * The store's primary key is the authority (see persist); this bounded set
 * only saves a write for the common case of a resend after a lost PUBACK.
 *
 * Bounded by count and by age: at most `capacity` ids, none older than
 * `windowMs`. The age bound keeps a quiet central's memory to what its last
 * minutes need (at 50 events/s a count bound alone took half an hour to fill,
 * which the soak read as growth); a resend older than the window is still
 * refused, by the store.
 */
export class RecentIds {
  /** id → when it was added; insertion order is age order. */
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly capacity = 100_000,
    private readonly windowMs = RECENT_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }

  add(id: string): void {
    const now = this.now();
    this.ids.delete(id); // a re-add moves it to the young end
    this.ids.set(id, now);
    const cutoff = now - this.windowMs;
    for (const [oldest, at] of this.ids) {
      if (this.ids.size <= this.capacity && at >= cutoff) break;
      this.ids.delete(oldest);
    }
  }
}

export function dedupStep(recent: RecentIds): Step {
  return {
    name: 'dedup',
    run(ctx) {
      const env = ctx.envelope!;
      return recent.has(env.id) ? { status: 'duplicate', envelope: env, where: 'memory' } : undefined;
    },
  };
}
