import type { Clock } from '../lib/clock.js';
import { logger } from '../lib/logger.js';
import type { Alert, AlertRepo } from '../storage/types.js';

const log = logger('alerts:escalation');

export interface EscalationLevel {
  name: string;
  /** Seconds at this level without an acknowledgement before the next level is called. */
  waitS: number;
  /** Reminders to this level's recipients while the alert stays open here (default 0). */
  repeats?: number | undefined;
  /** Seconds between reminders (default waitS / (repeats + 1), so the last comes before the climb). */
  repeatEveryS?: number | undefined;
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
  /** Default chain: reminders at every level (see `EscalationLevel`). */
  repeats?: number | undefined;
  repeatEveryS?: number | undefined;
  /** Chains per site and alert type, e.g. fire alarms to the fire brigade after 60 s. */
  chains?: EscalationChain[] | undefined;
}

export function chainFor(config: EscalationConfig, alert: Pick<Alert, 'siteId' | 'type'>): EscalationChain {
  const hit = config.chains?.find(
    (c) => (!c.sites || c.sites.includes(alert.siteId)) && (!c.types || c.types.includes(alert.type)),
  );
  return (
    hit ?? {
      name: 'default',
      levels: config.levels.map((name) => ({
        name,
        waitS: config.ackTimeoutS,
        repeats: config.repeats,
        repeatEveryS: config.repeatEveryS,
      })),
    }
  );
}

/** The timing of one level, in ms after the alert reached it. */
export interface LevelPlan {
  /** Repeats that are sent at all: those before the climb (every configured one at the top). */
  repeats: number;
  everyMs: number;
  /** When the alert climbs; null at the top of the chain. */
  climbMs: number | null;
}

export function levelPlan(chain: EscalationChain, level: number): LevelPlan | null {
  const here = chain.levels[level];
  if (!here) return null;
  const n = here.repeats ?? 0;
  const everyMs = (here.repeatEveryS ?? here.waitS / (n + 1)) * 1000;
  const climbMs = level + 1 < chain.levels.length ? here.waitS * 1000 : null;
  let repeats = 0;
  while (repeats < n && (climbMs === null || repeatOffset(everyMs, repeats + 1) < climbMs)) repeats++;
  return { repeats, everyMs, climbMs };
}

/** Offset of the k-th repeat (1-based) after the alert reached the level. */
const repeatOffset = (everyMs: number, k: number): number => Math.round(k * everyMs);

/** Offset of what follows `sent` repeats: the next repeat, the climb, or nothing (null). */
export function nextOffset(plan: LevelPlan, sent: number): number | null {
  return sent < plan.repeats ? repeatOffset(plan.everyMs, sent + 1) : plan.climbMs;
}

/** When the alert that reached `level` at `now` is next due (a repeat or the climb); null: never. */
export function nextDeadline(
  config: EscalationConfig,
  alert: Pick<Alert, 'siteId' | 'type'>,
  level: number,
  now: number,
): number | null {
  const plan = levelPlan(chainFor(config, alert), level);
  const off = plan ? nextOffset(plan, 0) : null;
  return off === null ? null : now + off;
}

/**
 * What a due alert does now. The level's start is derived from the stored
 * deadline (start = deadline − offset of what was due), so the schedule is
 * anchored to the level, not to when a service happened to run. Missed repeats
 * are not sent in a burst: one catch-up repeat stands for all those already
 * due (the count jumps to the newest due one), then the schedule continues.
 * A climb that is due wins over any repeat.
 */
export type DueStep =
  | { kind: 'climb' }
  | { kind: 'repeat'; toRepeat: number; missed: number; nextAt: number | null };

export function dueStep(plan: LevelPlan | null, sent: number, deadline: number, now: number): DueStep {
  const off = plan ? nextOffset(plan, sent) : null;
  if (!plan || off === null || sent >= plan.repeats) return { kind: 'climb' };
  const start = deadline - off;
  if (plan.climbMs !== null && now >= start + plan.climbMs) return { kind: 'climb' };
  let to = sent + 1;
  while (to < plan.repeats && start + repeatOffset(plan.everyMs, to + 1) <= now) to++;
  const next = nextOffset(plan, to);
  return { kind: 'repeat', toRepeat: to, missed: to - sent - 1, nextAt: next === null ? null : start + next };
}

export const DEFAULT_ESCALATION: EscalationConfig = {
  ackTimeoutS: 60,
  levels: ['on_duty', 'institution_head', 'civil_affairs_dispatch', 'emergency_management'],
};

/**
 * Persisted escalation timers. The deadline lives in the alert row
 * (`next_escalation_at`); one in-process timer is armed for the earliest one.
 * After a restart the due ones fire at once. Each climb is a compare-and-set
 * on (state = open, level) and each repeat on (state = open, level, repeats
 * sent), so no step can fire twice, across restarts and instances. A level
 * with `repeats` reminds its recipients before the climb (see `dueStep`).
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
      notify: (alert: Alert, change: 'escalated' | 'renotified') => void;
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
          if (await this.step(a, now)) progressed = true;
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

  /** One due alert: a repeat at its level or the climb; false when another instance got there first. */
  private async step(a: Alert, now: number): Promise<boolean> {
    const chain = chainFor(this.deps.escalation, a);
    const sent = a.repeatCount ?? 0;
    const step = dueStep(levelPlan(chain, a.escalationLevel), sent, a.nextEscalationAt ?? now, now);
    if (step.kind === 'repeat') {
      const total = chain.levels[a.escalationLevel]?.repeats ?? 0;
      const updated = await this.deps.alerts.renotify(a.id, {
        level: a.escalationLevel,
        fromRepeat: sent,
        toRepeat: step.toRepeat,
        at: now,
        nextEscalationAt: step.nextAt,
        actor: 'system:escalation',
        note: `repeat ${step.toRepeat} of ${total}${step.missed > 0 ? ` (${step.missed} missed while down)` : ''}`,
      });
      if (!updated) return false;
      log.info({ alert: a.id, level: a.escalationLevel, repeat: step.toRepeat }, 'alert level reminded');
      this.deps.notify(updated, 'renotified');
      return true;
    }
    const level = a.escalationLevel + 1;
    const next = nextDeadline(this.deps.escalation, a, level, now);
    const updated = await this.deps.alerts.escalate(a.id, a.escalationLevel, now, next, 'system:escalation');
    if (!updated) return false;
    log.info({ alert: a.id, level, to: chain.levels[level]?.name }, 'alert escalated');
    this.deps.notify(updated, 'escalated');
    return true;
  }
}
