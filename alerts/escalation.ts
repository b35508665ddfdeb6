import type { Clock } from '../lib/clock.js';
import { logger } from '../lib/logger.js';
import type { Alert, AlertRepo } from '../storage/types.js';

const log = logger('alerts:escalation');

export interface EscalationConfig {
  /** Seconds an alert may stay unacknowledged before it climbs a level. */
  ackTimeoutS: number;
  /** Level names, level 0 first (the on-duty staff who get every alert). */
  levels: string[];
}

export const DEFAULT_ESCALATION: EscalationConfig = {
  ackTimeoutS: 60,
  levels: ['on_duty', 'institution_head', 'civil_affairs_dispatch', 'emergency_management'],
};

/**
 * Persisted escalation timers. The deadline lives in the alert row
 * (`next_escalation_at`); one in-process timer is armed for the earliest one.
 * After a restart the due ones fire at once. Each step is a compare-and-set
 * on (state = open, level), so a step can never fire twice.
 */
export class Escalator {
  private timer: { cancel(): void } | undefined;
  private running = false;
  private stopped = true;

  constructor(
    private readonly deps: {
      alerts: AlertRepo;
      clock: Clock;
      escalation: EscalationConfig;
      notify: (alert: Alert) => void;
    },
  ) {}

  firstDeadline(now: number): number | null {
    return this.deps.escalation.levels.length > 1 ? now + this.deps.escalation.ackTimeoutS * 1000 : null;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
  }

  reschedule(): void {
    void this.arm();
  }

  private async arm(): Promise<void> {
    if (this.stopped) return;
    const next = await this.deps.alerts.nextDueAt();
    this.timer?.cancel();
    this.timer = undefined;
    if (next === null) return;
    this.timer = this.deps.clock.setTimeout(() => void this.tick(), next - this.deps.clock.now());
  }

  async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const { levels, ackTimeoutS } = this.deps.escalation;
      for (;;) {
        const now = this.deps.clock.now();
        const due = await this.deps.alerts.due(now, 100);
        if (due.length === 0) break;
        let progressed = false;
        for (const a of due) {
          const level = a.escalationLevel + 1;
          const next = level + 1 < levels.length ? now + ackTimeoutS * 1000 : null;
          const updated = await this.deps.alerts.escalate(
            a.id,
            a.escalationLevel,
            now,
            next,
            'system:escalation',
          );
          if (updated) {
            progressed = true;
            log.info({ alert: a.id, level, to: levels[level] }, 'alert escalated');
            this.deps.notify(updated);
          }
        }
        if (!progressed) break;
      }
    } catch (err) {
      log.error({ err }, 'escalation pass failed');
    } finally {
      this.running = false;
    }
    await this.arm();
  }
}
