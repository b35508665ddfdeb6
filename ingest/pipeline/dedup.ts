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
  /** id → the number of its latest add. */
  private readonly latest = new Map<string, number>();
  /**
   * Every add in order (id, add number, time), oldest from `head`; an id
   * added again leaves its older entry behind, skipped when it reaches the
   * head. Evicting walks from the head, so an add costs O(1) amortized
   * (iterating a Map from its start after deletions walks every deleted
   * slot until V8 rehashes: past 100,000 ids that made each add O(n)).
   */
  private ids: string[] = [];
  private adds: number[] = [];
  private times: number[] = [];
  private head = 0;
  private count = 0;

  constructor(
    private readonly capacity = 100_000,
    private readonly windowMs = RECENT_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  has(id: string): boolean {
    return this.latest.has(id);
  }

  get size(): number {
    return this.latest.size;
  }

  add(id: string): void {
    const now = this.now();
    const n = ++this.count;
    this.latest.set(id, n);
    this.ids.push(id);
    this.adds.push(n);
    this.times.push(now);
    const cutoff = now - this.windowMs;
    while (this.head < this.ids.length) {
      const oldest = this.ids[this.head]!;
      if (this.latest.get(oldest) === this.adds[this.head]) {
        if (this.latest.size <= this.capacity && this.times[this.head]! >= cutoff) break;
        this.latest.delete(oldest);
      }
      this.head++;
    }
    const queued = this.ids.length - this.head;
    if (this.head > 1024 && this.head * 2 > this.ids.length) this.compact(false);
    else if (queued > 2 * this.capacity + 1024) this.compact(true); // mostly ids added again and again
  }

  /** Drops the evicted head, and with `superseded` the older entries of ids added again. */
  private compact(superseded: boolean): void {
    const ids: string[] = [];
    const adds: number[] = [];
    const times: number[] = [];
    for (let i = this.head; i < this.ids.length; i++) {
      if (superseded && this.latest.get(this.ids[i]!) !== this.adds[i]) continue;
      ids.push(this.ids[i]!);
      adds.push(this.adds[i]!);
      times.push(this.times[i]!);
    }
    this.ids = ids;
    this.adds = adds;
    this.times = times;
    this.head = 0;
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
