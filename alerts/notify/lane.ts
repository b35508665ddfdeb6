import { randomUUID } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { TokenBucket } from './rate-limit.js';
import { type Channel, isRetryable, type Message, type Notification } from './types.js';

/** A notification bound for one channel, with the recipients its routes named. */
export interface LaneItem {
  notification: Notification;
  recipients: string[];
}

export interface LanePolicy {
  rateLimit: { capacity: number; perMinute: number };
  grouping: { windowMs: number; threshold: number; neverGroup: string[] };
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; jitter: number };
  concurrency: number;
}

export type AttemptOutcome =
  | { ok: true }
  | { ok: false; error: unknown; retryInMs: number | null /* null: given up */ };

export interface LaneDeps {
  channel: Channel;
  policy: LanePolicy;
  clock: Clock;
  random: () => number;
  /** Told about every attempt; awaited before the send slot is freed (errors are the caller's). */
  report(message: Message, items: LaneItem[], attempts: number, outcome: AttemptOutcome): Promise<void>;
  /** Told when items are held back for a group or a summary. */
  held?(items: LaneItem[], reason: 'group' | 'rate'): void;
}

interface Outgoing {
  message: Message;
  items: LaneItem[];
  attempts: number;
}

interface Window {
  count: number;
  held: LaneItem[];
  timer: { cancel(): void };
}

/**
 * The queue of one channel. Per site, the first `threshold` items of a
 * `windowMs` window go out one by one and the rest leave as one grouped
 * message when the window ends. Every message takes a token of the channel's
 * bucket; without one, items wait in an overflow that leaves as one summary
 * when the next token comes: nothing is dropped. Retries wait on timers
 * outside the send slots, so a message in backoff never holds up others, and
 * a dead endpoint only ever delays its own lane.
 */
export class ChannelLane {
  private readonly windows = new Map<string, Window>();
  private readonly ready: Outgoing[] = [];
  private overflow: LaneItem[] = [];
  private overflowTimer: { cancel(): void } | null = null;
  private readonly retries = new Set<{ cancel(): void }>();
  private readonly inflight = new Set<Promise<void>>();
  private bucket: TokenBucket | null = null;
  private stopped = false;

  constructor(private readonly deps: LaneDeps) {}

  get name(): string {
    return this.deps.channel.name;
  }

  private tokens(): TokenBucket {
    if (!this.bucket) {
      const r = this.deps.policy.rateLimit;
      this.bucket = new TokenBucket(r.capacity, r.perMinute, this.deps.clock.now());
    }
    return this.bucket;
  }

  submit(item: LaneItem): void {
    if (this.stopped) return;
    const g = this.deps.policy.grouping;
    const site = item.notification.alert.siteId;
    if (g.windowMs > 0 && !g.neverGroup.includes(item.notification.alert.severity)) {
      let w = this.windows.get(site);
      if (!w) {
        const timer = this.deps.clock.setTimeout(() => this.closeWindow(site), g.windowMs);
        w = { count: 0, held: [], timer };
        this.windows.set(site, w);
      }
      w.count++;
      if (w.count > g.threshold) {
        w.held.push(item);
        this.deps.held?.([item], 'group');
        return;
      }
    }
    this.emit([item], 'single');
  }

  private closeWindow(site: string): void {
    const w = this.windows.get(site);
    this.windows.delete(site);
    if (!w || w.held.length === 0 || this.stopped) return;
    this.emit(w.held, w.held.length === 1 ? 'single' : 'group');
  }

  /** A new message: it needs a token, or its items join the overflow summary. */
  private emit(items: LaneItem[], kind: Message['kind']): void {
    const now = this.deps.clock.now();
    if (this.overflow.length === 0 && this.tokens().take(now)) {
      this.enqueue(items, kind);
      return;
    }
    this.overflow.push(...items);
    this.deps.held?.(items, 'rate');
    this.armOverflow();
  }

  private armOverflow(): void {
    if (this.overflowTimer || this.stopped) return;
    const wait = Math.max(1, this.tokens().waitMs(this.deps.clock.now()));
    this.overflowTimer = this.deps.clock.setTimeout(() => {
      this.overflowTimer = null;
      if (this.stopped || this.overflow.length === 0) return;
      if (!this.tokens().take(this.deps.clock.now())) {
        this.armOverflow();
        return;
      }
      const items = this.overflow;
      this.overflow = [];
      this.enqueue(items, items.length === 1 ? 'single' : 'summary');
    }, wait);
  }

  private enqueue(items: LaneItem[], kind: Message['kind']): void {
    const recipients = [...new Set(items.flatMap((i) => i.recipients))];
    const message: Message = {
      id: randomUUID(),
      channel: this.name,
      kind,
      notifications: items.map((i) => i.notification),
      recipients,
      done: new Set(),
    };
    this.ready.push({ message, items, attempts: 0 });
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.inflight.size < this.deps.policy.concurrency && this.ready.length > 0) {
      const out = this.ready.shift()!;
      const p = this.attempt(out).finally(() => {
        this.inflight.delete(p);
        this.pump();
      });
      this.inflight.add(p);
    }
  }

  private backoff(attempts: number): number {
    const r = this.deps.policy.retry;
    const base = Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** (attempts - 1));
    const spread = base * r.jitter * (this.deps.random() * 2 - 1);
    return Math.max(1, Math.round(Math.min(r.maxDelayMs, base + spread)));
  }

  private async attempt(out: Outgoing): Promise<void> {
    out.attempts++;
    let outcome: AttemptOutcome;
    try {
      await this.deps.channel.send(out.message);
      outcome = { ok: true };
    } catch (error) {
      const again = isRetryable(error) && out.attempts < this.deps.policy.retry.maxAttempts;
      outcome = { ok: false, error, retryInMs: again ? this.backoff(out.attempts) : null };
    }
    try {
      await this.deps.report(out.message, out.items, out.attempts, outcome);
    } catch {
      // reporting is best effort; the caller logs its own failures
    }
    if (!outcome.ok && outcome.retryInMs !== null && !this.stopped) {
      const t = this.deps.clock.setTimeout(() => {
        this.retries.delete(t);
        if (this.stopped) return;
        this.ready.push(out);
        this.pump();
      }, outcome.retryInMs);
      this.retries.add(t);
    }
  }

  /** Messages in flight, waiting for a slot, for a retry, a window or a token. */
  backlog(): number {
    let held = this.overflow.length;
    for (const w of this.windows.values()) held += w.held.length;
    return this.inflight.size + this.ready.length + this.retries.size + held;
  }

  /** Resolves when no send is in flight (more may be scheduled on timers). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Stops timers and waits for sends in flight; what was not sent stays pending in the log. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.windows.values()) w.timer.cancel();
    this.windows.clear();
    this.overflowTimer?.cancel();
    this.overflowTimer = null;
    for (const t of this.retries) t.cancel();
    this.retries.clear();
    this.ready.length = 0;
    await this.settled();
  }
}
