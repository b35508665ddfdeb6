/**
 * Row shapes and row → object mappers shared by the SQLite and PostgreSQL
 * stores: both use the same column names (see central-schema.ts and
 * postgres/schema.ts), so one mapper serves both.
 */
import type { PostCheck } from '../alerts/fire-room/types.js';
import type {
  Alert,
  AlertState,
  CommandRecord,
  CommandStatus,
  Severity,
  Silence,
  Suppression,
} from './types.js';

export interface AlertRow {
  id: string;
  site_id: string;
  source: string;
  type: string;
  severity: string;
  state: string;
  title: string;
  event_id: string | null;
  /** 0/1 in SQLite, boolean in PostgreSQL */
  drill: number | boolean;
  count: number;
  opened_at: number;
  updated_at: number;
  acked_at: number | null;
  acked_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  escalation_level: number;
  next_escalation_at: number | null;
  /** Absent in rows read before migration 8. */
  repeat_count?: number;
  suppressed: Suppression | null;
}

export function toAlert(r: AlertRow): Alert {
  return {
    id: r.id,
    siteId: r.site_id,
    source: r.source,
    type: r.type,
    severity: r.severity as Severity,
    state: r.state as AlertState,
    title: r.title,
    eventId: r.event_id,
    drill: r.drill === true || r.drill === 1,
    count: r.count,
    openedAt: r.opened_at,
    updatedAt: r.updated_at,
    ackedAt: r.acked_at,
    ackedBy: r.acked_by,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    escalationLevel: r.escalation_level,
    nextEscalationAt: r.next_escalation_at,
    repeatCount: r.repeat_count ?? 0,
    suppressed: r.suppressed,
  };
}

export interface CommandRow {
  id: string;
  site_id: string;
  name: string;
  args: string;
  actor: string;
  sent_at: number;
  status: CommandStatus;
  replied_at: number | null;
  reply: string | null;
}

export const toCommandRecord = (r: CommandRow): CommandRecord => ({
  id: r.id,
  siteId: r.site_id,
  name: r.name,
  args: JSON.parse(r.args),
  actor: r.actor,
  sentAt: r.sent_at,
  status: r.status,
  repliedAt: r.replied_at,
  reply: r.reply ? JSON.parse(r.reply) : null,
});

export interface SilenceRow {
  id: string;
  site_id: string;
  type: string | null;
  source: string | null;
  starts_at: number;
  ends_at: number;
  reason: string;
  created_by: string;
  created_at: number;
}

export const toSilence = (r: SilenceRow): Silence => ({
  id: r.id,
  siteId: r.site_id,
  type: r.type,
  source: r.source,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export interface PostCheckRow {
  id: string;
  site_id: string;
  issued_at: number;
  issued_by: string;
  deadline_at: number;
  state: PostCheck['state'];
  answered_at: number | null;
  answered_by: string | null;
  via: string | null;
}

export const toPostCheck = (r: PostCheckRow): PostCheck => ({
  id: r.id,
  siteId: r.site_id,
  issuedAt: r.issued_at,
  issuedBy: r.issued_by,
  deadlineAt: r.deadline_at,
  state: r.state,
  answeredAt: r.answered_at,
  answeredBy: r.answered_by,
  via: r.via,
});
