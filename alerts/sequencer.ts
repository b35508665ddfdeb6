import type { StoredEventNotice } from '../central/bus.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { logger } from '../lib/logger.js';

const log = logger('alerts:sequencer');

/** How soon a device's events are looked at again after the store could not be asked. */
export const SEQUENCER_RETRY_MS = 1000;

interface Waiting {
  seq: number;
  notice: StoredEventNotice;
  since: number;
}

/**
 * Puts each device's events back in its own order before they change alerts.
 * With several ingest instances behind a shared subscription, a call and its
 * bedside cancel can be stored by two instances in either order. An event is
 * applied when the device's previous sequence number has been applied (by
 * any instance: the store is asked), or when it has waited `windowMs` for a
 * gap that may never fill (an event rejected at ingest, another lane still
 * draining at the gateway). With one instance the window is 0 and events
 * pass straight through.
 */
export class DeviceSequencer {
  private readonly pending = new Map<string, Waiting[]>();
  private readonly running = new Set<string>();
  private readonly timers = new Map<string, { cancel(): void }>();

  constructor(
    private readonly deps: {
      windowMs: number;
      clock: Clock;
      lastProcessedSeq: (siteId: string, deviceId: string) => Promise<number | null>;
      process: (n: StoredEventNotice) => Promise<void>;
    },
  ) {}

  push(n: StoredEventNotice): void {
    if (this.deps.windowMs <= 0) {
      void this.deps.process(n);
      return;
    }
    const key = `${n.envelope.siteId}\u0000${n.envelope.deviceId}`;
    const list = this.pending.get(key) ?? [];
    if (!list.some((w) => w.notice.envelope.id === n.envelope.id)) {
      list.push({ seq: n.envelope.seq, notice: n, since: this.deps.clock.now() });
      list.sort((a, b) => a.seq - b.seq);
    }
    this.pending.set(key, list);
    void this.pump(key);
  }

  /** Events still waiting for an earlier sequence number. */
  get waiting(): number {
    let n = 0;
    for (const l of this.pending.values()) n += l.length;
    return n;
  }

  stop(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  private async pump(key: string): Promise<void> {
    if (this.running.has(key)) return;
    this.running.add(key);
    try {
      for (;;) {
        const list = this.pending.get(key);
        const head = list?.[0];
        if (!list || !head) {
          this.pending.delete(key);
          return;
        }
        const { siteId, deviceId } = head.notice.envelope;
        let last: number | null;
        try {
          last = await this.deps.lastProcessedSeq(siteId, deviceId);
        } catch (err) {
          // the store is unreachable (a database restart, a network cut): the events wait here and
          // are looked at again; a rejection escaping this loop ended the process
          log.warn(
            { err: errorMessage(err), site: siteId, device: deviceId, waiting: list.length },
            'could not ask the store for the device order; trying again',
          );
          this.later(key, SEQUENCER_RETRY_MS);
          return;
        }
        // an earlier event may have arrived while the store was asked: decide again for the new head
        // (taking the first element now would drop that event and run this one twice)
        if (list[0] !== head) continue;
        const inOrder = last === null ? head.seq === 0 : head.seq <= last + 1;
        const waited = this.deps.clock.now() - head.since;
        if (!inOrder && waited < this.deps.windowMs) {
          this.later(key, Math.min(100, this.deps.windowMs - waited));
          return;
        }
        list.shift();
        await this.deps.process(head.notice);
      }
    } finally {
      this.running.delete(key);
    }
  }

  private later(key: string, ms: number): void {
    this.timers.get(key)?.cancel();
    this.timers.set(
      key,
      this.deps.clock.setTimeout(() => void this.pump(key), ms),
    );
  }
}
