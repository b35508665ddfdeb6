/** Fire-control room (消防控制室) duty: roster, attendance, post checks, duty log, handovers. */

export interface Operator {
  id: string;
  siteId: string;
  name: string;
  certificateNo: string;
  certificateExpiresAt: number;
}

export interface PresentOperator {
  operatorId: string;
  since: number;
}

export interface AttendanceEntry {
  siteId: string;
  operatorId: string | null;
  action: 'check_in' | 'check_out' | 'occupancy';
  count: number | null;
  source: string;
  at: number;
}

export type PostCheckState = 'pending' | 'answered' | 'missed';

export interface PostCheck {
  id: string;
  siteId: string;
  issuedAt: number;
  issuedBy: string;
  deadlineAt: number;
  state: PostCheckState;
  answeredAt: number | null;
  answeredBy: string | null;
  via: string | null;
}

export interface DutyLogEntry {
  siteId: string;
  at: number;
  author: string;
  kind: 'equipment_check' | 'note' | 'alarm_handling';
  body: Record<string, unknown>;
}

export interface Handover {
  siteId: string;
  at: number;
  fromOperators: string[];
  toOperators: string[];
  note: string;
  author: string;
}

export interface FireRoomSettings {
  /** GB 25506: two certified operators per shift; local rules may allow one. */
  minOperators: number;
  maxShiftH: number;
  randomPostChecksPerDay: number;
}

export const DEFAULT_SETTINGS: FireRoomSettings = {
  minOperators: 2,
  maxShiftH: 8,
  randomPostChecksPerDay: 3,
};

export interface FireRoomRepo {
  putOperator(o: Operator): Promise<void>;
  operators(siteId: string): Promise<Operator[]>;
  sitesWithRoster(): Promise<string[]>;
  /** Applies one attendance record; false when its event was applied before. */
  recordAttendance(e: AttendanceEntry, eventId: string | null): Promise<boolean>;
  /** Applies several in order in one transaction; per item, false when its event was applied before. */
  recordAttendanceMany(items: Array<{ entry: AttendanceEntry; eventId: string | null }>): Promise<boolean[]>;
  present(siteId: string): Promise<PresentOperator[]>;
  occupancy(siteId: string): Promise<{ count: number; at: number } | null>;
  attendance(siteId: string, since: number, limit: number): Promise<AttendanceEntry[]>;
  createPostCheck(p: PostCheck): Promise<void>;
  answerPostCheck(id: string, by: string, via: string, at: number): Promise<PostCheck | null>;
  /** Marks pending checks past their deadline as missed and returns them (each once). */
  missDue(now: number): Promise<PostCheck[]>;
  postChecks(siteId: string, limit: number): Promise<PostCheck[]>;
  getPostCheck(id: string): Promise<PostCheck | null>;
  addDutyLog(e: DutyLogEntry): Promise<void>;
  dutyLog(siteId: string, limit: number): Promise<DutyLogEntry[]>;
  addHandover(h: Handover): Promise<void>;
  handovers(siteId: string, limit: number): Promise<Handover[]>;
  settings(siteId: string): Promise<FireRoomSettings>;
  putSettings(siteId: string, s: FireRoomSettings): Promise<void>;
}
