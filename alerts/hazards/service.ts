import type { AlertNotice, CentralBus } from '../../central/bus.js';
import type { Clock } from '../../lib/clock.js';
import { CarewatchError } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { mintId } from '../../protocol/index.js';
import type { Alert, AlertRepo } from '../../storage/types.js';
import { hazardsCsv } from './csv.js';
import type { Hazard, HazardEmit, HazardFilter, HazardKind, HazardLogEntry, HazardRepo } from './types.js';

const log = logger('alerts:hazards');

const ACTOR = 'system:hazards';

export interface HazardConfig {
  /** A panel trouble alert unresolved this long becomes a hazard. */
  panelTroubleAfterS: number;
  /** A camera offline alert unresolved this long becomes a hazard. */
  cameraOfflineAfterS: number;
  /** This many fire alarms of one source resolved as false (误报) within the window open a hazard. */
  falseAlarmThreshold: number;
  falseAlarmWindowS: number;
}

export const DEFAULT_HAZARD_CONFIG: HazardConfig = {
  panelTroubleAfterS: 24 * 3600,
  cameraOfflineAfterS: 2 * 3600,
  falseAlarmThreshold: 3,
  falseAlarmWindowS: 7 * 24 * 3600,
};

/** A resolve note that calls the alarm false. */
export const FALSE_ALARM_NOTE = /误报|false[\s_-]*alarm/i;

const KIND_LABEL: Record<HazardKind, string> = {
  panel_trouble: '火灾报警控制器故障未排除',
  camera_offline: '监控摄像机长时间离线',
  coverage_gap: '重点部位监控覆盖缺口',
  repeated_false_alarms: '同一探测点位反复误报',
  other: '其他隐患',
};

const invalid = (code: string, field: string, message: string) =>
  new CarewatchError(code, `${field}: ${message}`, { field });

/**
 * The hazard ledger (隐患、整改、责任清单). Alert changes open entries:
 * panel trouble and camera offline alerts once they stay unresolved past a
 * threshold (a persisted check time, evaluated by a timer and at start),
 * coverage gaps at once, and repeated false fire alarms of one source. An
 * entry is assigned (responsible, deadline), then closed with a note; a
 * passed deadline emits `hazard.overdue` once per deadline (compare-and-set).
 */
export class HazardService {
  private queue: Promise<void> = Promise.resolve();
  private timer: { cancel(): void } | undefined;
  private off: (() => void) | undefined;
  private stopped = true;
  private readonly config: HazardConfig;

  constructor(
    private readonly deps: {
      repo: HazardRepo;
      clock: Clock;
      emit: HazardEmit;
      config?: Partial<HazardConfig> | undefined;
      /**
       * The alert store: re-checks that a watched alert is still unresolved,
       * finds resolve notes, and catches up on open alerts at start.
       */
      alerts?: Pick<AlertRepo, 'get' | 'audit' | 'list'> | undefined;
      /** When given, `alert.changed` notices are observed between start() and stop(). */
      bus?: Pick<CentralBus, 'on'> | undefined;
    },
  ) {
    this.config = { ...DEFAULT_HAZARD_CONFIG, ...deps.config };
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.off = this.deps.bus?.on('alert.changed', (n) => this.observeAlert(n));
    const alerts = this.deps.alerts;
    if (alerts) {
      // notices missed while the process was down: the open alerts are the truth
      const open = await alerts.list({
        types: ['panel_trouble', 'camera_offline', 'coverage_gap'],
        states: ['open', 'acknowledged'],
        limit: 10_000,
      });
      for (const alert of open) void this.observeAlert({ alert, change: 'repeated' });
    }
    await this.enqueue(() => this.tick());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    this.off = undefined;
    this.timer?.cancel();
    this.timer = undefined;
    await this.queue;
  }

  /** Waits until everything queued so far has been applied. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Called with each alert change; `note` is the resolve note when the caller has it. */
  observeAlert(n: AlertNotice & { note?: string | null | undefined }): Promise<void> {
    return this.enqueue(() => this.onAlert(n));
  }

  list(filter: HazardFilter): Promise<Hazard[]> {
    return this.deps.repo.list(filter);
  }

  /** The three lists (隐患、整改、责任清单) as CSV for Excel. */
  async csv(filter: HazardFilter, opts: { timeZone?: string } = {}): Promise<string> {
    return hazardsCsv(await this.deps.repo.list(filter), { now: this.deps.clock.now(), ...opts });
  }

  async get(id: string): Promise<{ hazard: Hazard; log: HazardLogEntry[] } | null> {
    const hazard = await this.deps.repo.get(id);
    return hazard ? { hazard, log: await this.deps.repo.log(id) } : null;
  }

  async assign(id: string, a: { responsible: string; rectifyBy: number; actor: string }): Promise<Hazard> {
    const responsible = typeof a.responsible === 'string' ? a.responsible.trim() : '';
    if (!responsible) throw invalid('HAZARD_INVALID', 'responsible', 'must not be empty');
    if (responsible.length > 100) throw invalid('HAZARD_INVALID', 'responsible', 'at most 100 characters');
    if (!Number.isFinite(a.rectifyBy)) throw invalid('HAZARD_INVALID', 'rectifyBy', 'must be a time');
    const updated = await this.deps.repo.assign(id, {
      responsible,
      rectifyBy: a.rectifyBy,
      actor: a.actor,
      at: this.deps.clock.now(),
    });
    if (!updated) throw await this.notChangeable(id);
    this.reschedule();
    return updated;
  }

  /** Closes (销号) an entry; a note saying what was done is required. */
  async close(id: string, c: { note: string; actor: string }): Promise<Hazard> {
    const note = typeof c.note === 'string' ? c.note.trim() : '';
    if (!note) throw invalid('HAZARD_NOTE_REQUIRED', 'note', 'say what was rectified before closing');
    if (note.length > 2000) throw invalid('HAZARD_INVALID', 'note', 'at most 2000 characters');
    const updated = await this.deps.repo.close(id, { note, actor: c.actor, at: this.deps.clock.now() });
    if (!updated) throw await this.notChangeable(id);
    log.info({ hazard: id, by: c.actor }, 'hazard closed');
    this.reschedule();
    return updated;
  }

  private async notChangeable(id: string): Promise<CarewatchError> {
    const h = await this.deps.repo.get(id);
    return h
      ? new CarewatchError('HAZARD_CLOSED', `hazard ${id} is closed`, { state: h.state })
      : new CarewatchError('HAZARD_NOT_FOUND', `hazard ${id} does not exist`);
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(work).catch((err) => log.error({ err }, 'hazard processing failed'));
    return this.queue;
  }

  private async onAlert(n: AlertNotice & { note?: string | null | undefined }): Promise<void> {
    const { alert, change } = n;
    if (alert.drill) return;
    const resolved = alert.state === 'resolved' || change === 'resolved';
    if (alert.type === 'fire_alarm') {
      if (resolved) await this.onFireAlarmResolved(alert, n.note);
      return;
    }
    const kind = alert.type as HazardKind;
    if (kind === 'coverage_gap') {
      if (!resolved) await this.openFor(alert, kind);
      return;
    }
    const afterS =
      kind === 'panel_trouble'
        ? this.config.panelTroubleAfterS
        : kind === 'camera_offline'
          ? this.config.cameraOfflineAfterS
          : undefined;
    if (afterS === undefined) return;
    if (resolved) {
      await this.deps.repo.unwatch(alert.id);
      return;
    }
    await this.deps.repo.watch({
      alertId: alert.id,
      siteId: alert.siteId,
      source: alert.source,
      kind,
      title: alert.title,
      checkAt: alert.openedAt + afterS * 1000,
    });
    this.reschedule();
  }

  private async onFireAlarmResolved(alert: Alert, given: string | null | undefined): Promise<void> {
    let note = given ?? null;
    if (note === null && this.deps.alerts) {
      const audit = await this.deps.alerts.audit(alert.id);
      note = audit.filter((e) => e.action === 'resolved').at(-1)?.note ?? null;
    }
    if (!note || !FALSE_ALARM_NOTE.test(note)) return;
    const now = this.deps.clock.now();
    const hazard = await this.deps.repo.recordFalseAlarm(
      {
        alertId: alert.id,
        siteId: alert.siteId,
        source: alert.source,
        resolvedAt: alert.resolvedAt ?? now,
        note,
      },
      {
        threshold: this.config.falseAlarmThreshold,
        windowMs: this.config.falseAlarmWindowS * 1000,
        draft: this.draft(alert, 'repeated_false_alarms', null, now),
      },
    );
    if (hazard) this.opened(hazard);
  }

  private draft(alert: Alert, kind: HazardKind, alertId: string | null, now: number) {
    const title =
      kind === 'repeated_false_alarms'
        ? `${KIND_LABEL[kind]}: ${alert.source} (${this.config.falseAlarmThreshold}+ in ${Math.round(this.config.falseAlarmWindowS / 86400)} d)`
        : `${KIND_LABEL[kind]}: ${alert.title}`;
    return {
      id: mintId(),
      siteId: alert.siteId,
      source: alert.source,
      kind,
      title,
      at: now,
      alertId,
      actor: ACTOR,
    };
  }

  private async openFor(alert: Alert, kind: HazardKind): Promise<void> {
    const hazard = await this.deps.repo.open(this.draft(alert, kind, alert.id, this.deps.clock.now()));
    if (hazard) this.opened(hazard);
  }

  private opened(hazard: Hazard): void {
    log.info({ hazard: hazard.id, site: hazard.siteId, kind: hazard.kind }, 'hazard opened');
    this.notify('hazard.opened', { hazard });
    this.reschedule();
  }

  private notify: HazardEmit = (event, payload) => {
    try {
      this.deps.emit(event, payload);
    } catch (err) {
      log.error({ err, event }, 'hazard notice listener failed');
    }
  };

  private reschedule(): void {
    if (!this.stopped) void this.arm();
  }

  private async arm(): Promise<void> {
    const next = await this.deps.repo.nextDueAt();
    this.timer?.cancel();
    this.timer = undefined;
    if (next === null || this.stopped) return;
    this.timer = this.deps.clock.setTimeout(
      () => void this.enqueue(() => this.tick()),
      next - this.deps.clock.now(),
    );
  }

  /** Due threshold checks and overdue deadlines; runs in the queue, then re-arms. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.dueChecks();
      await this.dueDeadlines();
    } finally {
      await this.arm();
    }
  }

  private async dueChecks(): Promise<void> {
    for (;;) {
      const now = this.deps.clock.now();
      const due = await this.deps.repo.dueWatches(now, 100);
      if (due.length === 0) return;
      for (const w of due) {
        const alert = this.deps.alerts ? await this.deps.alerts.get(w.alertId) : null;
        const stillOpen = this.deps.alerts ? alert !== null && alert.state !== 'resolved' : true;
        if (stillOpen) {
          const hazard = await this.deps.repo.open({
            id: mintId(),
            siteId: w.siteId,
            source: w.source,
            kind: w.kind,
            title: `${KIND_LABEL[w.kind]}: ${w.title}`,
            at: now,
            alertId: w.alertId,
            actor: ACTOR,
          });
          if (hazard) this.opened(hazard);
        }
        await this.deps.repo.unwatch(w.alertId);
      }
    }
  }

  private async dueDeadlines(): Promise<void> {
    for (;;) {
      const now = this.deps.clock.now();
      const due = await this.deps.repo.overdue(now, 100);
      let progressed = false;
      for (const h of due) {
        const hazard = await this.deps.repo.markEscalated(h.id, now);
        if (!hazard) continue;
        progressed = true;
        log.warn(
          { hazard: h.id, site: h.siteId, responsible: h.responsible },
          'hazard rectification overdue',
        );
        this.notify('hazard.overdue', { hazard });
      }
      if (!progressed) return;
    }
  }
}
