import type { AlertNotice, CentralBus } from '../../central/bus.js';
import { type Clock, systemClock } from '../../lib/clock.js';
import { errorMessage, isCarewatchError } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import { chainFor, DEFAULT_ESCALATION, type EscalationConfig } from '../escalation.js';
import type { NotifyConfig, RouteConfig } from './config.js';
import { type AttemptOutcome, ChannelLane, type LaneItem } from './lane.js';
import type { LogEntry, NotificationLog } from './log.js';
import { onSafetyNotices } from './safety.js';
import { type Channel, dedupKeyOf, type Message, type Notification } from './types.js';

const log = logger('alerts:notify');

export interface DispatcherDeps {
  config: NotifyConfig;
  /** The channels named in `config.channels` (see `createChannels`), or fakes in tests. */
  channels: Channel[];
  log: NotificationLog;
  clock?: Clock | undefined;
  metrics?: Metrics | undefined;
  /** When given, `start` subscribes to `alert.changed` and the accident and hazard notices. */
  bus?: CentralBus | undefined;
  /** For the names of escalation levels. */
  escalation?: EscalationConfig | undefined;
  random?: (() => number) | undefined;
}

/** A channel a notification goes to, and whom on it. */
export interface Target {
  channel: string;
  recipients: string[];
}

function routeMatches(r: RouteConfig, n: Notification): boolean {
  const a = n.alert;
  return (
    (!r.severities || r.severities.includes(a.severity)) &&
    (!r.changes || r.changes.includes(n.change) || remindsOf(r.changes, n)) &&
    (!r.types || r.types.includes(a.type)) &&
    (!r.sites || r.sites.includes(a.siteId)) &&
    (!r.levels || r.levels.some((l) => (typeof l === 'number' ? l === n.level : l === n.levelName)))
  );
}

/**
 * A reminder of an escalation level goes where the alert's arrival at that
 * level went: routes for `opened` at level 0, for `escalated` above it (and
 * routes naming `renotified` themselves).
 */
function remindsOf(changes: RouteConfig['changes'] & {}, n: Notification): boolean {
  return n.change === 'renotified' && changes.includes(n.level === 0 ? 'opened' : 'escalated');
}

function errorText(err: unknown): string {
  return isCarewatchError(err) ? `${err.code}: ${err.message}` : errorMessage(err);
}

/**
 * Turns alert changes into messages on channels: routes by severity, change,
 * type, site and escalation level; claims each (dedup key, channel) in the
 * notification log first, so nothing is sent twice, even across a restart
 * with a persistent log; then hands it to the channel's lane (grouping, rate
 * limit, retries with backoff, see `ChannelLane`). Lanes are independent, so
 * a failing endpoint never delays the others.
 */
export class NotificationDispatcher {
  private lanes = new Map<string, ChannelLane>();
  private unsubscribe: (() => void) | null = null;
  private running = false;
  private readonly tasks = new Set<Promise<unknown>>();
  /** Entries resumed after a restart, to carry their earlier attempts and creation time on. */
  private readonly attemptsBefore = new Map<string, LogEntry>();
  private leaseTimer: { cancel(): void } | null = null;
  private leaseTick: Promise<void> | null = null;

  constructor(private readonly deps: DispatcherDeps) {}

  private get clock(): Clock {
    return this.deps.clock ?? systemClock;
  }

  /** Builds the lanes, sends what a previous run left pending, subscribes to the bus. */
  async start(): Promise<void> {
    if (this.running) return;
    const byName = new Map(this.deps.channels.map((c) => [c.name, c]));
    for (const c of this.deps.config.channels) {
      const channel = byName.get(c.name);
      if (!channel) {
        log.warn({ channel: c.name }, 'notification channel configured but not built; skipped');
        continue;
      }
      this.lanes.set(
        c.name,
        new ChannelLane({
          channel,
          clock: this.clock,
          random: this.deps.random ?? Math.random,
          policy: {
            rateLimit: c.rateLimit,
            grouping: this.deps.config.grouping,
            retry: this.deps.config.retry,
            concurrency: c.concurrency,
          },
          report: (m, items, attempts, outcome) => this.report(m, items, attempts, outcome),
          held: (items, reason) =>
            this.deps.metrics
              ?.counter('carewatch_notify_held_total', 'Notifications held back for a group or a summary', [
                'channel',
                'reason',
              ])
              .inc({ channel: c.name, reason }, items.length),
        }),
      );
    }
    this.running = true;
    // a shared log: take the lease before anything is claimed, so no live instance adopts from this one
    await this.deps.log.renew?.(this.leaseMs);
    const pending = this.deps.log.resumable
      ? await this.deps.log.resumable(100_000)
      : await this.deps.log.list({ status: 'pending', limit: 100_000 });
    this.resume(pending);
    if (pending.length > 0) log.info({ count: pending.length }, 'resending notifications left pending');
    if (this.deps.log.renew && this.deps.log.adopt) this.scheduleLease();
    if (this.deps.bus) {
      const offAlerts = this.deps.bus.on('alert.changed', (notice) => {
        this.track(this.notify(notice));
      });
      const offSafety = onSafetyNotices(
        this.deps.bus,
        () => this.clock.now(),
        (n) => this.track(this.submit(n)),
      );
      this.unsubscribe = () => {
        offAlerts();
        offSafety();
      };
    }
  }

  /**
   * Stops taking notices, cancels timers, waits for sends in flight; unsent
   * ones stay pending. A shared log's lease is given up, so a live instance
   * adopts them at once (a restart of this one resumes those still its own).
   */
  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.running = false;
    this.leaseTimer?.cancel();
    this.leaseTimer = null;
    await this.leaseTick;
    await Promise.allSettled([...this.tasks]);
    await Promise.all([...this.lanes.values()].map((l) => l.stop()));
    this.lanes = new Map();
    if (wasRunning && this.deps.log.release) {
      await this.deps.log
        .release()
        .catch((err) => log.warn({ err: errorMessage(err) }, 'notification lease not released'));
    }
  }

  private get leaseMs(): number {
    return this.deps.config.lease.expireS * 1000;
  }

  /** Submits entries left pending (by an earlier run of this instance, or adopted) to their lanes. */
  private resume(newestFirst: LogEntry[]): void {
    for (const e of [...newestFirst].reverse()) {
      const lane = this.lanes.get(e.channel);
      if (!lane) continue;
      this.attemptsBefore.set(`${e.channel}\u0000${e.dedupKey}`, e);
      lane.submit({ notification: e.notification, recipients: e.recipients });
    }
  }

  private scheduleLease(): void {
    if (!this.running) return;
    this.leaseTimer = this.clock.setTimeout(() => {
      this.leaseTick = this.renewAndAdopt().finally(() => {
        this.leaseTick = null;
        this.scheduleLease();
      });
    }, this.deps.config.lease.renewS * 1000);
  }

  /** Renews this instance's lease, then adopts the pending notifications of instances whose lease lapsed. */
  private async renewAndAdopt(): Promise<void> {
    const { renew, adopt } = this.deps.log;
    if (!renew || !adopt || !this.running) return;
    try {
      if (!(await renew.call(this.deps.log, this.leaseMs))) {
        this.deps.metrics
          ?.counter('carewatch_notify_lease_lapsed_total', 'Times this instance renewed its lease too late')
          .inc();
        log.warn(
          { expireS: this.deps.config.lease.expireS },
          'notification lease renewed too late: another instance may have adopted and sent what this one still holds',
        );
      }
      if (!this.running) return;
      const adopted = await adopt.call(this.deps.log, this.leaseMs, 100_000);
      // when stopping meanwhile, they stay pending as this instance's: released below, adopted again
      if (adopted.length === 0 || !this.running) return;
      this.resume(adopted);
      this.deps.metrics
        ?.counter('carewatch_notify_adopted_total', 'Pending notifications adopted from a lapsed instance')
        .inc(adopted.length);
      log.warn({ count: adopted.length }, 'adopted pending notifications of an instance whose lease lapsed');
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'notification lease renewal or adoption failed; retried');
    }
  }

  private track(p: Promise<unknown>): void {
    const t = p
      .catch((err) => log.error({ err: errorMessage(err) }, 'notification failed'))
      .finally(() => this.tasks.delete(t));
    this.tasks.add(t);
  }

  /** The notification of an `alert.changed` notice, or null when it is not notified (drill, suppressed). */
  toNotification(notice: AlertNotice): Notification | null {
    const { alert, change } = notice;
    if (alert.drill && !this.deps.config.notifyDrills) return null;
    if (alert.suppressed && !this.deps.config.notifySuppressed) return null;
    const level = alert.escalationLevel;
    const chain = chainFor(this.deps.escalation ?? DEFAULT_ESCALATION, alert);
    return {
      dedupKey: dedupKeyOf(
        alert.id,
        change,
        level,
        change === 'renotified' ? (alert.repeatCount ?? 0) : undefined,
      ),
      alert: structuredClone(alert),
      change,
      level,
      levelName: chain.levels[level]?.name ?? `level_${level}`,
      createdAt: this.clock.now(),
    };
  }

  /** Channels and recipients for a notification: the union of every matching route. */
  targets(n: Notification): Target[] {
    const out = new Map<string, Set<string>>();
    for (const r of this.deps.config.routes) {
      if (!routeMatches(r, n)) continue;
      for (const ch of r.channels) {
        const set = out.get(ch) ?? new Set<string>();
        for (const who of r.recipients?.[ch] ?? []) set.add(who);
        out.set(ch, set);
      }
    }
    return [...out].map(([channel, set]) => ({ channel, recipients: [...set] }));
  }

  /** Handles an `alert.changed` notice; resolves with the channels it was queued on. */
  async notify(notice: AlertNotice): Promise<string[]> {
    const n = this.toNotification(notice);
    return n ? this.submit(n) : [];
  }

  /** Queues a notification on its channels, except where its dedup key was claimed before. */
  async submit(n: Notification): Promise<string[]> {
    if (!this.running) return [];
    const queued: string[] = [];
    await Promise.all(
      this.targets(n).map(async (t) => {
        const lane = this.lanes.get(t.channel);
        if (!lane) return;
        const now = this.clock.now();
        const entry: LogEntry = {
          dedupKey: n.dedupKey,
          channel: t.channel,
          alertId: n.alert.id,
          siteId: n.alert.siteId,
          change: n.change,
          level: n.level,
          status: 'pending',
          attempts: 0,
          messageId: null,
          messageKind: null,
          lastError: null,
          recipients: t.recipients,
          createdAt: now,
          updatedAt: now,
          notification: n,
        };
        if (!(await this.deps.log.claim(entry))) {
          this.deps.metrics
            ?.counter('carewatch_notify_deduplicated_total', 'Notifications not sent again', ['channel'])
            .inc({ channel: t.channel });
          return;
        }
        if (!this.running) return; // stays pending for the next start
        lane.submit({ notification: n, recipients: t.recipients });
        queued.push(t.channel);
      }),
    );
    return queued;
  }

  private async report(
    m: Message,
    items: LaneItem[],
    attempts: number,
    outcome: AttemptOutcome,
  ): Promise<void> {
    const now = this.clock.now();
    const status = outcome.ok ? 'delivered' : outcome.retryInMs === null ? 'failed' : 'pending';
    const lastError = outcome.ok ? null : errorText(outcome.error);
    const entries: LogEntry[] = items.map((i) => {
      const n = i.notification;
      const k = `${m.channel}\u0000${n.dedupKey}`;
      const before = this.attemptsBefore.get(k);
      if (status !== 'pending') this.attemptsBefore.delete(k);
      return {
        dedupKey: n.dedupKey,
        channel: m.channel,
        alertId: n.alert.id,
        siteId: n.alert.siteId,
        change: n.change,
        level: n.level,
        status,
        attempts: (before?.attempts ?? 0) + attempts,
        messageId: m.id,
        messageKind: m.kind,
        lastError,
        recipients: i.recipients,
        createdAt: before?.createdAt ?? n.createdAt,
        updatedAt: now,
        notification: n,
      };
    });
    const labels = { channel: m.channel };
    this.deps.metrics
      ?.counter('carewatch_notify_attempts_total', 'Notification send attempts', ['channel', 'outcome'])
      .inc({ ...labels, outcome: status === 'delivered' ? 'ok' : status === 'pending' ? 'retry' : 'failed' });
    if (status !== 'pending') {
      this.deps.metrics
        ?.counter('carewatch_notify_messages_total', 'Notification messages by outcome', [
          'channel',
          'kind',
          'outcome',
        ])
        .inc({ ...labels, kind: m.kind, outcome: status });
    }
    if (status === 'delivered') {
      log.info(
        { ...labels, message: m.id, kind: m.kind, items: items.length, attempts },
        'notification sent',
      );
    } else {
      log.warn(
        {
          ...labels,
          message: m.id,
          attempts,
          retryInMs: outcome.ok ? null : outcome.retryInMs,
          error: lastError,
        },
        status === 'failed' ? 'notification failed, giving up' : 'notification failed, will retry',
      );
    }
    try {
      await this.deps.log.record(...entries);
    } catch (err) {
      log.error({ ...labels, err: errorMessage(err) }, 'notification log write failed');
    }
  }

  /** Resolves when no send is in flight on any channel (tests step a `ManualClock` with it). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.tasks]);
    await Promise.all([...this.lanes.values()].map((l) => l.settled()));
  }

  /** Per channel: messages in flight or waiting (slot, retry, window, token). */
  backlog(): Record<string, number> {
    return Object.fromEntries([...this.lanes].map(([name, l]) => [name, l.backlog()]));
  }
}
