import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import type { EventRepo } from '../storage/types.js';
import type { CentralBus } from './bus.js';

const log = logger('central:redeliver');

/** Oldest unprocessed events looked at per sweep. */
const PAGE = 500;

/**
 * Safety net behind "nothing is lost": an event stored but still
 * unprocessed long after it arrived (a module could not commit its record,
 * a notice went missing in a bug) is announced on the bus again, as if just
 * stored. Every module applies an event once (alert changes claim it, the
 * fire room keys its records by event id), so a repeat of an applied event
 * changes nothing. Events this instance's alert service still holds (queued,
 * or waiting for a device's earlier sequence numbers) are left to it; so is
 * everything younger than `afterMs`. Before, such events waited for the next
 * start's recovery pass.
 */
export class UnprocessedSweeper {
  private timer: { cancel(): void } | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly deps: {
      events: Pick<EventRepo, 'unprocessed'>;
      bus: CentralBus;
      clock: Clock;
      metrics: Metrics;
      /** True while this instance's alert service has the event in hand. */
      holds: (eventId: string) => boolean;
      /** Age after which an unprocessed event is announced again. */
      afterMs: number;
      everyMs: number;
    },
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }

  private schedule(): void {
    this.timer = this.deps.clock.setTimeout(() => {
      this.running = this.sweep()
        .catch((err) => log.warn({ err: errorMessage(err) }, 'sweep of unprocessed events failed'))
        .finally(() => {
          this.running = null;
          if (this.timer) this.schedule();
        });
    }, this.deps.everyMs);
  }

  /** Announces the unprocessed events older than `afterMs` again; returns how many. */
  async sweep(): Promise<number> {
    const cutoff = this.deps.clock.now() - this.deps.afterMs;
    const page = await this.deps.events.unprocessed(PAGE);
    const stale = page.filter((e) => e.receivedAt < cutoff && !this.deps.holds(e.id));
    for (const e of stale) {
      this.deps.bus.emit('event.stored', {
        envelope: e.envelope,
        gatewayId: e.gatewayId,
        receivedAt: e.receivedAt,
        redelivered: true,
      });
    }
    if (stale.length > 0) {
      this.deps.metrics
        .counter(
          'carewatch_events_redelivered_total',
          'stored events announced again because they were still unprocessed',
        )
        .inc(stale.length);
      log.warn(
        {
          events: stale.length,
          oldestAgeS: Math.round((this.deps.clock.now() - stale[0]!.receivedAt) / 1000),
          kinds: [...new Set(stale.map((e) => e.kind))],
        },
        'events stored long ago were still unprocessed; announced again',
      );
    }
    return stale.length;
  }
}
