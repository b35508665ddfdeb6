import type { CentralBus, PresenceNotice, StoredEventNotice } from '../central/bus.js';
import type { Clock } from '../lib/clock.js';
import { CarewatchError } from '../lib/errors.js';
import { logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { mintId } from '../protocol/index.js';
import type { Alert, AlertRepo, EventRepo, Severity, SilenceRepo, Suppression } from '../storage/types.js';

/** Per-device alert types that an offline gateway makes meaningless to chase one by one. */
const INHIBITED_BY_GATEWAY_OFFLINE = new Set([
  'camera_offline',
  'recording_stalled',
  'device_unavailable',
  'panel_offline',
  'low_battery',
]);

import { type EscalationConfig, Escalator } from './escalation.js';
import { type AlertRule, configuredAction } from './rule-config.js';
import { actionForEvent, actionForPresence, panelSource, type RuleAction } from './rules.js';
import { DeviceSequencer } from './sequencer.js';

const log = logger('alerts');
const RECOVER_PAGE = 500;

/** How long an event in hand counts as being worked on (a backlog this deep is taken as a loss). */
export const IN_HAND_TRUST_MS = 10 * 60_000;

/**
 * Turns stored events into alerts. Work is applied one item at a time in
 * arrival order; every change is one store transaction that also claims the
 * triggering event, so a crash replays unprocessed events without doubling.
 */
export class AlertService {
  private queue: Promise<void> = Promise.resolve();
  /** Events that change no alert, marked processed together by the next flush in the queue. */
  private marks: Array<{ id: string; siteId: string; deviceId: string; seq: number }> = [];
  private readonly escalator: Escalator;
  private readonly sequencer: DeviceSequencer;
  private unsubscribe: Array<() => void> = [];
  /** Events announced to this service and not yet applied (queued, or waiting in the sequencer), with when. */
  private readonly inHand = new Map<string, number>();

  constructor(
    private readonly deps: {
      alerts: AlertRepo;
      events: EventRepo;
      silences: SilenceRepo;
      bus: CentralBus;
      clock: Clock;
      metrics: Metrics;
      escalation: EscalationConfig;
      /** Configured rules, tried before the built-in ones. */
      rules?: AlertRule[];
      /** >0 when several ingest instances may store one device's events out of order. */
      reorderWindowMs?: number;
      /**
       * Modules that keep their own records of the same events (the fire-control room):
       * waited for before events are marked processed; the ids returned could not be
       * committed there and stay unprocessed, so the next start replays them.
       */
      unappliedElsewhere?: (ids: readonly string[]) => Promise<ReadonlySet<string>>;
    },
  ) {
    this.escalator = new Escalator({ ...deps, notify: (alert, change) => this.changed(alert, change) });
    this.sequencer = new DeviceSequencer({
      windowMs: deps.reorderWindowMs ?? 0,
      clock: deps.clock,
      lastProcessedSeq: async (site, device) => {
        // an event marked but not flushed yet counts as processed for the order of its device
        const stored = await deps.events.lastProcessedSeq(site, device);
        let last = stored;
        for (const m of this.marks)
          if (m.siteId === site && m.deviceId === device && (last === null || m.seq > last)) last = m.seq;
        return last;
      },
      process: (n) =>
        this.enqueue(() => this.onEvent(n.envelope.id, n)).finally(() => this.inHand.delete(n.envelope.id)),
    });
  }

  async start(): Promise<void> {
    this.unsubscribe = [
      this.deps.bus.on('event.stored', (n) => {
        this.inHand.set(n.envelope.id, this.deps.clock.now());
        this.sequencer.push(n);
      }),
      this.deps.bus.on('gateway.presence', (p) => this.enqueue(() => this.onPresence(p))),
    ];
    await this.enqueue(() => this.recover());
    await this.escalator.start();
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.sequencer.stop();
    await this.escalator.stop();
    await this.queue;
  }

  /**
   * Waits until everything queued so far has been applied, including the work
   * it queued in turn (the group commit of marks is queued by the events it marks).
   */
  async idle(): Promise<void> {
    for (;;) {
      const q = this.queue;
      await q;
      if (q === this.queue && this.marks.length === 0) return;
    }
  }

  /**
   * True while the event is queued here or waits for its device's earlier
   * events, for up to `IN_HAND_TRUST_MS`: one held longer is taken as lost
   * in here (a bug), so the sweep of unprocessed events announces it again.
   */
  holds(eventId: string): boolean {
    const since = this.inHand.get(eventId);
    return since !== undefined && this.deps.clock.now() - since < IN_HAND_TRUST_MS;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(work).catch((err) => {
      this.deps.metrics.counter('carewatch_alert_errors_total', 'alert processing failures').inc();
      log.error({ err }, 'alert processing failed');
    });
    return this.queue;
  }

  /**
   * Group commit for events that change no alert (most of them: attendance,
   * camera and panel status, ...): the first one queues a flush behind the
   * events already waiting, which marks them all in one transaction. A crash
   * before the flush leaves them unprocessed, and the recovery pass replays
   * them to the same result (no alert change), so nothing is lost or doubled.
   */
  private markLater(
    id: string,
    ctx: { siteId: string; source: string; seq?: number; deviceId?: string },
  ): void {
    const env = { siteId: ctx.siteId, deviceId: ctx.deviceId ?? ctx.source, seq: ctx.seq ?? -1 };
    if (this.marks.length === 0) void this.enqueue(() => this.flushMarks());
    this.marks.push({ id, ...env });
  }

  private async flushMarks(): Promise<void> {
    // the marks stay visible to the sequencer until they are committed
    const n = this.marks.length;
    const skip = this.deps.unappliedElsewhere
      ? await this.deps.unappliedElsewhere(this.marks.slice(0, n).map((m) => m.id))
      : new Set<string>();
    const batch = this.marks.splice(0, n);
    // marks made while waiting found the list non-empty and queued no flush of their own
    if (this.marks.length > 0) void this.enqueue(() => this.flushMarks());
    await this.deps.events.markProcessedMany(batch.filter((m) => !skip.has(m.id)).map((m) => m.id));
  }

  /**
   * Events stored before a crash but never turned into alert changes. Runs
   * inside the queue, so it flushes its own marks after each page (a flush
   * queued behind it would come too late for the next page). An event that
   * stays unprocessed after its page (a module could not commit its record)
   * is set aside, so the pass always ends.
   */
  private async recover(): Promise<void> {
    let total = 0;
    let previous = new Set<string>();
    const stuck = new Set<string>();
    for (;;) {
      const page = await this.deps.events.unprocessed(RECOVER_PAGE + stuck.size);
      const fresh = page.filter((e) => {
        if (stuck.has(e.id)) return false;
        if (previous.has(e.id)) {
          stuck.add(e.id);
          return false;
        }
        return true;
      });
      if (fresh.length === 0) break;
      for (const e of fresh)
        await this.onEvent(e.id, { envelope: e.envelope, gatewayId: e.gatewayId, receivedAt: e.receivedAt });
      await this.flushMarks();
      total += fresh.length;
      previous = new Set(fresh.map((e) => e.id));
    }
    if (total) log.info({ events: total }, 'recovered unprocessed events');
    if (stuck.size)
      log.warn({ events: stuck.size }, 'events left unprocessed after recovery; the next start retries');
  }

  private async onEvent(eventId: string, n: StoredEventNotice): Promise<void> {
    const env = n.envelope;
    const action = configuredAction(this.deps.rules ?? [], env) ?? actionForEvent(env);
    await this.apply(action, {
      siteId: env.siteId,
      source: env.kind === 'panel_alarm' ? panelSource(env.deviceId, env.data.zone) : env.deviceId,
      seq: env.seq,
      deviceId: env.deviceId,
      eventId,
      drill: env.drill === true,
      actor: `device:${env.deviceId}`,
    });
  }

  private async onPresence(p: PresenceNotice): Promise<void> {
    await this.apply(actionForPresence(p), {
      siteId: p.siteId,
      source: p.gatewayId,
      eventId: null,
      drill: false,
      actor: `gateway:${p.gatewayId}`,
    });
  }

  private async apply(
    action: RuleAction,
    ctx: {
      siteId: string;
      source: string;
      eventId: string | null;
      drill: boolean;
      actor: string;
      seq?: number;
      deviceId?: string;
    },
  ): Promise<void> {
    const now = this.deps.clock.now();
    const claim = ctx.eventId ?? undefined;
    if (action.op === 'none') {
      if (claim) this.markLater(claim, ctx);
      return;
    }
    if (action.op === 'open') {
      const suppressed = await this.suppression(ctx.siteId, ctx.source, action.type, now);
      const escalates = action.escalates && !ctx.drill && suppressed === null;
      const r = await this.deps.alerts.openOrRepeat(
        {
          id: mintId(),
          siteId: ctx.siteId,
          source: ctx.source,
          type: action.type,
          severity: action.severity,
          title: action.title,
          eventId: ctx.eventId,
          drill: ctx.drill,
          at: now,
          nextEscalationAt: escalates
            ? this.escalator.firstDeadline(now, { siteId: ctx.siteId, type: action.type })
            : null,
          suppressed,
          actor: ctx.actor,
          seq: ctx.seq,
        },
        claim,
      );
      if (r === 'already-processed') return;
      this.changed(r.alert, r.created ? 'opened' : 'repeated');
      if (r.created && r.alert.nextEscalationAt !== null) this.escalator.reschedule();
      return;
    }
    const resolved = await this.deps.alerts.resolveByKey(
      { siteId: ctx.siteId, source: ctx.source, type: action.type },
      { actor: ctx.actor, at: now, note: action.note, eventId: ctx.eventId, seq: ctx.seq },
      claim,
    );
    if (resolved && resolved !== 'already-processed') this.changed(resolved, 'resolved');
  }

  /**
   * Inhibition: while a site's gateway is offline, per-device alerts of that
   * site are recorded but neither escalated nor notified (the gateway alert
   * says it all). Silences: a maintenance window for a site, optionally one
   * alert type and one source, does the same until it ends.
   */
  private async suppression(
    siteId: string,
    source: string,
    type: string,
    now: number,
  ): Promise<Suppression | null> {
    if (INHIBITED_BY_GATEWAY_OFFLINE.has(type)) {
      const down = await this.deps.alerts.list({
        siteIds: [siteId],
        types: ['gateway_offline'],
        states: ['open', 'acknowledged'],
        limit: 1,
      });
      if (down.length > 0) return 'inhibited';
    }
    const silences = await this.deps.silences.active(now, [siteId]);
    const hit = silences.some(
      (s) => (s.type === null || s.type === type) && (s.source === null || s.source === source),
    );
    return hit ? 'silenced' : null;
  }

  private changed(
    alert: Alert,
    change: 'opened' | 'repeated' | 'acknowledged' | 'resolved' | 'escalated' | 'renotified',
  ): void {
    this.deps.metrics
      .counter('carewatch_alert_changes_total', 'alert lifecycle changes', ['change', 'type'])
      .inc({ change, type: alert.type });
    this.deps.bus.emit('alert.changed', { alert, change });
  }

  /**
   * Conditions that other modules derive (fire-control room understaffed, a
   * missed post check, ...) open and clear alerts through the same queue,
   * keys and audit as event-driven ones.
   */
  raise(a: {
    siteId: string;
    source: string;
    type: string;
    severity: Severity;
    title: string;
    actor: string;
    escalates?: boolean;
  }) {
    return this.enqueue(() =>
      this.apply(
        { op: 'open', type: a.type, severity: a.severity, title: a.title, escalates: a.escalates ?? false },
        { siteId: a.siteId, source: a.source, eventId: null, drill: false, actor: a.actor },
      ),
    );
  }

  clear(a: { siteId: string; source: string; type: string; note: string; actor: string }) {
    return this.enqueue(() =>
      this.apply(
        { op: 'resolve', type: a.type, note: a.note },
        { siteId: a.siteId, source: a.source, eventId: null, drill: false, actor: a.actor },
      ),
    );
  }

  /** A user acknowledges: stops escalation. */
  async acknowledge(id: string, actor: string, note: string | null): Promise<Alert> {
    return this.userTransition(id, ['open'], 'acknowledged', actor, note);
  }

  async resolve(id: string, actor: string, note: string | null): Promise<Alert> {
    return this.userTransition(id, ['open', 'acknowledged'], 'resolved', actor, note);
  }

  private async userTransition(
    id: string,
    from: Array<'open' | 'acknowledged'>,
    to: 'acknowledged' | 'resolved',
    actor: string,
    note: string | null,
  ): Promise<Alert> {
    let result: Alert | null = null;
    let current: Alert | null = null;
    await this.enqueue(async () => {
      result = await this.deps.alerts.transition(id, from, to, { actor, at: this.deps.clock.now(), note });
      if (!result) current = await this.deps.alerts.get(id);
    });
    if (result) {
      this.changed(result, to);
      return result;
    }
    if (!current) throw new CarewatchError('ALERT_NOT_FOUND', `alert ${id} does not exist`);
    throw new CarewatchError(
      'ALERT_TRANSITION_INVALID',
      `alert ${id} is ${(current as Alert).state}; it cannot become ${to}`,
      { state: (current as Alert).state },
    );
  }
}
