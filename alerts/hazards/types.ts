/**
 * The fire-hazard ledger: the three lists of 隐患、整改、责任清单 (hazards,
 * rectification, responsibility) in one table, with an append-only log.
 */

export const HAZARD_KINDS = [
  'panel_trouble',
  'camera_offline',
  'coverage_gap',
  'repeated_false_alarms',
  'other',
] as const;
export type HazardKind = (typeof HAZARD_KINDS)[number];

export const HAZARD_STATES = ['open', 'rectifying', 'closed'] as const;
export type HazardState = (typeof HAZARD_STATES)[number];

export interface Hazard {
  id: string;
  siteId: string;
  /** The device, zone or panel point (the alert's source). */
  source: string;
  kind: HazardKind;
  title: string;
  openedAt: number;
  /** The alert that opened it (null for repeated false alarms and manual entries). */
  alertId: string | null;
  /** 责任人: who rectifies. */
  responsible: string | null;
  /** 整改期限: the rectification deadline. */
  rectifyBy: number | null;
  state: HazardState;
  closedAt: number | null;
  closedBy: string | null;
  closeNote: string | null;
  /** When `hazard.overdue` was emitted for the current deadline (at most once per deadline). */
  escalatedAt: number | null;
}

export interface HazardLogEntry {
  hazardId: string;
  at: number;
  actor: string;
  action: 'opened' | 'assigned' | 'closed' | 'overdue';
  note: string | null;
}

export interface HazardFilter {
  siteIds?: string[] | undefined;
  states?: HazardState[] | undefined;
  kinds?: HazardKind[] | undefined;
  limit?: number | undefined;
}

/** A persisted "check later": an unresolved alert that becomes a hazard at `checkAt`. */
export interface HazardWatch {
  alertId: string;
  siteId: string;
  source: string;
  kind: HazardKind;
  title: string;
  checkAt: number;
}

export interface FalseAlarm {
  alertId: string;
  siteId: string;
  source: string;
  resolvedAt: number;
  note: string;
}

export interface HazardDraft {
  id: string;
  siteId: string;
  source: string;
  kind: HazardKind;
  title: string;
  at: number;
  alertId: string | null;
  actor: string;
}

/** Asynchronous so a PostgreSQL repository can follow; each method is atomic on its own. */
export interface HazardRepo {
  /**
   * Opens a hazard unless one is already open for (site, source, kind) or one
   * was ever opened for the same alert; null when nothing was opened.
   */
  open(d: HazardDraft): Promise<Hazard | null>;
  get(id: string): Promise<Hazard | null>;
  /** Newest first. */
  list(f: HazardFilter): Promise<Hazard[]>;
  log(id: string): Promise<HazardLogEntry[]>;
  /** Sets responsible and deadline (re-arming the overdue notice); null when closed or missing. */
  assign(
    id: string,
    a: { responsible: string; rectifyBy: number; actor: string; at: number },
  ): Promise<Hazard | null>;
  /** Compare-and-set on state != closed; null when closed or missing. */
  close(id: string, c: { note: string; actor: string; at: number }): Promise<Hazard | null>;
  /** Not closed, rectify_by at or before `now`, not yet escalated. */
  overdue(now: number, limit: number): Promise<Hazard[]>;
  /** Compare-and-set: escalated_at IS NULL and still overdue and not closed. */
  markEscalated(id: string, at: number): Promise<Hazard | null>;

  /** Upserts the check of an alert (keeps the earliest check time). */
  watch(w: HazardWatch): Promise<void>;
  unwatch(alertId: string): Promise<void>;
  dueWatches(now: number, limit: number): Promise<HazardWatch[]>;
  /** Earliest pending check or overdue deadline. */
  nextDueAt(): Promise<number | null>;
  /**
   * Records a fire alarm resolved as false (idempotent per alert) and, when
   * `threshold` unconsumed ones of the same (site, source) lie within
   * `windowMs`, opens a repeated_false_alarms hazard that consumes them.
   */
  recordFalseAlarm(
    f: FalseAlarm,
    rule: { threshold: number; windowMs: number; draft: HazardDraft },
  ): Promise<Hazard | null>;
}

export interface HazardEvents {
  'hazard.opened': { hazard: Hazard };
  'hazard.overdue': { hazard: Hazard };
}

export type HazardEmit = <K extends keyof HazardEvents>(event: K, payload: HazardEvents[K]) => void;

/**
 * An `emit` that forwards to an event bus whose events include HazardEvents
 * (e.g. the central bus once `CentralEvents extends HazardEvents`).
 */
export function emitOnBus(bus: { emit(name: keyof HazardEvents, payload: never): void }): HazardEmit {
  return (event, payload) => bus.emit(event, payload as never);
}
