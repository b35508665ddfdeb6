import type { Clock } from '../../lib/clock.js';
import { CarewatchError } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { mintId } from '../../protocol/index.js';
import type { AlertRepo } from '../../storage/types.js';
import {
  type Accident,
  type AccidentEmit,
  type AccidentFilter,
  type AccidentRepo,
  type AccidentReport,
  REPORT_CHANNELS,
  type ReportChannel,
} from './types.js';

const log = logger('alerts:accidents');

export interface AccidentConfig {
  /** The reporting window after classification: 1 h (1小时内报告). */
  reportWithinS: number;
  /** `accident.deadline_near` this long before the deadline of an unreported accident. */
  warnBeforeS: number;
}

export const DEFAULT_ACCIDENT_CONFIG: AccidentConfig = { reportWithinS: 3600, warnBeforeS: 900 };

export interface AccidentDetail {
  accident: Accident;
  reports: AccidentReport[];
  /** Seconds until the deadline (negative: past it); null once reported. */
  remainingS: number | null;
}

const invalid = (field: string, problem: string) =>
  new CarewatchError('ACCIDENT_INVALID', `${field}: ${problem}`, { field });

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(field, 'must not be empty');
  const v = value.trim();
  if (v.length > max) throw invalid(field, `must not be longer than ${max} characters`);
  return v;
}

/**
 * Accidents and the 1-hour reporting duty. The deadline is persisted with the
 * accident; one timer is armed for the earliest warning or deadline, and due
 * ones are handled at start. Each notice is a compare-and-set in the store
 * (warned_at IS NULL; state = pending_report), so a restart or a second
 * instance neither repeats nor misses one. An accident whose deadline passed
 * while nobody was running gets the overdue notice only (a "deadline near"
 * after the deadline would be noise).
 */
export class AccidentService {
  private timer: { cancel(): void } | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private readonly config: AccidentConfig;

  constructor(
    private readonly deps: {
      repo: AccidentRepo;
      clock: Clock;
      emit: AccidentEmit;
      config?: Partial<AccidentConfig> | undefined;
      /** When given, `alertId` must name an alert of the same site. */
      alerts?: Pick<AlertRepo, 'get'> | undefined;
    },
  ) {
    this.config = { ...DEFAULT_ACCIDENT_CONFIG, ...deps.config };
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  async classify(input: {
    siteId: string;
    alertId?: string | null | undefined;
    title: string;
    actor: string;
  }): Promise<Accident> {
    const siteId = text(input.siteId, 'siteId', 64);
    const title = text(input.title, 'title', 200);
    const alertId = input.alertId ? text(input.alertId, 'alertId', 64) : null;
    if (alertId && this.deps.alerts) {
      const alert = await this.deps.alerts.get(alertId);
      if (!alert || alert.siteId !== siteId)
        throw invalid('alertId', `no alert ${alertId} at site ${siteId}`);
    }
    const now = this.deps.clock.now();
    const accident: Accident = {
      id: mintId(),
      siteId,
      alertId,
      title,
      classifiedAt: now,
      classifiedBy: input.actor,
      deadlineAt: now + this.config.reportWithinS * 1000,
      state: 'pending_report',
      reportedAt: null,
      reportedLate: false,
      warnedAt: null,
      overdueAt: null,
    };
    await this.deps.repo.insert(accident);
    log.info({ accident: accident.id, site: siteId, deadlineAt: accident.deadlineAt }, 'accident classified');
    this.notify('accident.classified', { accident, remainingS: this.remaining(accident, now) });
    this.reschedule();
    return accident;
  }

  /** Records a report to the authorities; one made after the deadline is recorded as late. */
  async report(
    id: string,
    input: { to: string; channel: ReportChannel; note?: string | null | undefined; actor: string },
  ): Promise<{ accident: Accident; report: AccidentReport }> {
    const toWhom = text(input.to, 'to', 200);
    if (!REPORT_CHANNELS.includes(input.channel)) {
      throw invalid('channel', `must be one of ${REPORT_CHANNELS.join(', ')}`);
    }
    const note = input.note?.trim() ? input.note.trim().slice(0, 2000) : null;
    const existing = await this.deps.repo.get(id);
    if (!existing) throw new CarewatchError('ACCIDENT_NOT_FOUND', `accident ${id} does not exist`);
    const at = this.deps.clock.now();
    const report: AccidentReport = {
      accidentId: id,
      at,
      by: input.actor,
      toWhom,
      channel: input.channel,
      note,
      late: at > existing.deadlineAt,
    };
    const accident = await this.deps.repo.addReport(report);
    if (!accident) throw new CarewatchError('ACCIDENT_NOT_FOUND', `accident ${id} does not exist`);
    log.info({ accident: id, late: report.late, channel: report.channel }, 'accident reported');
    this.notify('accident.reported', { accident, report, remainingS: this.remaining(accident, at) });
    this.reschedule();
    return { accident, report };
  }

  list(filter: AccidentFilter): Promise<Accident[]> {
    return this.deps.repo.list(filter);
  }

  async get(id: string): Promise<AccidentDetail | null> {
    const accident = await this.deps.repo.get(id);
    if (!accident) return null;
    return {
      accident,
      reports: await this.deps.repo.reports(id),
      remainingS: accident.state === 'reported' ? null : this.remaining(accident, this.deps.clock.now()),
    };
  }

  private remaining(a: Accident, now: number): number {
    const ms = a.deadlineAt - now;
    return ms >= 0 ? Math.ceil(ms / 1000) : -Math.floor(-ms / 1000);
  }

  private notify: AccidentEmit = (event, payload) => {
    try {
      this.deps.emit(event, payload);
    } catch (err) {
      log.error({ err, event }, 'accident notice listener failed');
    }
  };

  private reschedule(): void {
    void this.arm();
  }

  private async arm(): Promise<void> {
    if (this.stopped) return;
    const next = await this.deps.repo.nextDueAt(this.config.warnBeforeS * 1000);
    this.timer?.cancel();
    this.timer = undefined;
    if (next === null || this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => void this.tick(), next - this.deps.clock.now());
  }

  /** Handles every due warning and deadline, then arms the timer for the next one. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped);
    } catch (err) {
      log.error({ err }, 'accident deadline pass failed');
    } finally {
      this.running = false;
    }
    await this.arm();
  }

  private async pass(): Promise<void> {
    const warnMs = this.config.warnBeforeS * 1000;
    for (;;) {
      const now = this.deps.clock.now();
      const due = await this.deps.repo.due(now, warnMs, 100);
      let progressed = false;
      for (const a of due) {
        if (a.deadlineAt <= now) {
          const updated = await this.deps.repo.markOverdue(a.id, now);
          if (!updated) continue;
          progressed = true;
          log.warn({ accident: a.id, site: a.siteId }, 'accident not reported within the deadline');
          this.notify('accident.overdue', { accident: updated, remainingS: this.remaining(updated, now) });
        } else {
          const updated = await this.deps.repo.markWarned(a.id, now);
          if (!updated) continue;
          progressed = true;
          this.notify('accident.deadline_near', {
            accident: updated,
            remainingS: this.remaining(updated, now),
          });
        }
      }
      if (!progressed) return;
    }
  }
}
