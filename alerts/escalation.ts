import type { Clock } from '../lib/clock.js';
import { logger } from '../lib/logger.js';
import type { Alert, AlertRepo } from '../storage/types.js';

const log = logger('alerts:escalation');

export interface EscalationLevel {
  name: string;
  /** Seconds at this level without an acknowledgement before the next level is called. */
  waitS: number;
}

/** A chain for some sites and/or alert types; the first matching chain wins. */
export interface EscalationChain {
  name: string;
  sites?: string[] | undefined;
  types?: string[] | undefined;
  levels: EscalationLevel[];
}

export interface EscalationConfig {
  /** Default chain: seconds an alert may stay unacknowledged before it climbs a level. */
  ackTimeoutS: number;
  /** Default chain: level names, level 0 first (the on-duty staff who get every alert). */
  levels: string[];
  /** Chains per site and alert type, e.g. fire alarms to the fire brigade after 60 s. */
  chains?: EscalationChain[] | undefined;
}

export function chainFor(config: EscalationConfig, alert: Pick<Alert, 'siteId' | 'type'>): EscalationChain {
  const hit = config.chains?.find(
    (c) => (!c.sites || c.sites.includes(alert.siteId)) && (!c.types || c.types.includes(alert.type)),
  );
  return (
    hit ?? { name: 'default', levels: config.levels.map((name) => ({ name, waitS: config.ackTimeoutS })) }
  );
}

/** When the alert at `level` should climb to the next one; null at the top of its chain. */
export function nextDeadline(
  config: EscalationConfig,
  alert: Pick<Alert, 'siteId' | 'type'>,
  level: number,
  now: number,
): number | null {
  const chain = chainFor(config, alert);
  const here = chain.levels[level];
  return here && level + 1 < chain.levels.length ? now + here.waitS * 1000 : null;
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

  firstDeadline(now: number, alert: Pick<Alert, 'siteId' | 'type'>): number | null {
    return nextDeadline(this.deps.escalation, alert, 0, now);
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
      for (;;) {
        const now = this.deps.clock.now();
        const due = await this.deps.alerts.due(now, 100);
        if (due.length === 0) break;
        let progressed = false;
        for (const a of due) {
          const level = a.escalationLevel + 1;
          const next = nextDeadline(this.deps.escalation, a, level, now);
          const updated = await this.deps.alerts.escalate(
            a.id,
            a.escalationLevel,
            now,
            next,
            'system:escalation',
          );
          if (updated) {
            progressed = true;
            log.info(
              { alert: a.id, level, to: chainFor(this.deps.escalation, a).levels[level]?.name },
              'alert escalated',
            );
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
