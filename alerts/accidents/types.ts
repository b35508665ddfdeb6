/**
 * Safety accidents (安全事故) and their reports to the authorities. After an
 * accident the person in charge must report within 1 hour (1小时内报告); the
 * deadline is a column of the accident, the reports are an append-only log.
 */

export const ACCIDENT_STATES = ['pending_report', 'reported', 'overdue'] as const;
export type AccidentState = (typeof ACCIDENT_STATES)[number];

export const REPORT_CHANNELS = ['phone', 'online', 'written'] as const;
export type ReportChannel = (typeof REPORT_CHANNELS)[number];

export interface Accident {
  id: string;
  siteId: string;
  /** The alert the accident was classified from, if any. */
  alertId: string | null;
  title: string;
  classifiedAt: number;
  classifiedBy: string;
  /** classifiedAt + the reporting window (1 h by default). */
  deadlineAt: number;
  /** `overdue` stays until the first report; a late report makes it `reported` with `reportedLate`. */
  state: AccidentState;
  /** The first report (follow-up reports are in the log only). */
  reportedAt: number | null;
  reportedLate: boolean;
  /** When `accident.deadline_near` was emitted (at most once). */
  warnedAt: number | null;
  /** When `accident.overdue` was emitted (at most once). */
  overdueAt: number | null;
}

export interface AccidentReport {
  accidentId: string;
  at: number;
  by: string;
  /** Who was told: the authority or person (民政局值班室, 区应急管理局, ...). */
  toWhom: string;
  channel: ReportChannel;
  note: string | null;
  /** Made after the deadline. */
  late: boolean;
}

export interface AccidentFilter {
  siteIds?: string[] | undefined;
  states?: AccidentState[] | undefined;
  since?: number | undefined;
  until?: number | undefined;
  limit?: number | undefined;
}

/** Asynchronous so a PostgreSQL repository can follow; each method is atomic on its own. */
export interface AccidentRepo {
  /** Inserts; throws ACCIDENT_EXISTS when the alert was classified before. */
  insert(a: Accident): Promise<void>;
  get(id: string): Promise<Accident | null>;
  byAlert(alertId: string): Promise<Accident | null>;
  /** Newest first. */
  list(f: AccidentFilter): Promise<Accident[]>;
  /**
   * Appends a report; the first one also moves the accident to `reported`
   * (compare-and-set on pending_report | overdue). Null when the accident does not exist.
   */
  addReport(r: AccidentReport): Promise<Accident | null>;
  reports(accidentId: string): Promise<AccidentReport[]>;
  /** Still unreported accidents whose warning or overdue time is at or before `now`. */
  due(now: number, warnBeforeMs: number, limit: number): Promise<Accident[]>;
  /** The earliest warning or overdue time of the unreported accidents. */
  nextDueAt(warnBeforeMs: number): Promise<number | null>;
  /** Compare-and-set: pending_report and not warned yet. Null when it did not apply. */
  markWarned(id: string, at: number): Promise<Accident | null>;
  /** Compare-and-set: pending_report -> overdue. Null when it did not apply. */
  markOverdue(id: string, at: number): Promise<Accident | null>;
}

export interface AccidentNotice {
  accident: Accident;
  /** Seconds left until the deadline (negative: past it). */
  remainingS: number;
}

/** What the accident service tells the rest of the central (merge into CentralEvents). */
export interface AccidentEvents {
  'accident.classified': AccidentNotice;
  'accident.deadline_near': AccidentNotice;
  'accident.overdue': AccidentNotice;
  'accident.reported': AccidentNotice & { report: AccidentReport };
}

export type AccidentEmit = <K extends keyof AccidentEvents>(event: K, payload: AccidentEvents[K]) => void;

/**
 * An `emit` that forwards to an event bus whose events include AccidentEvents
 * (e.g. the central bus once `CentralEvents extends AccidentEvents`).
 */
export function emitOnBus(bus: { emit(name: keyof AccidentEvents, payload: never): void }): AccidentEmit {
  return (event, payload) => bus.emit(event, payload as never);
}
