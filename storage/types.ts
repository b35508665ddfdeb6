import type { FireRoomRepo } from '../alerts/fire-room/types.js';
import type { Envelope } from '../protocol/index.js';

/**
 * Repository interfaces of the central store. They are asynchronous so the
 * same contract fits the embedded SQLite store and a PostgreSQL one; each
 * method is atomic on its own (the alert methods also mark the triggering
 * event processed in the same transaction, so a crash between them cannot
 * lose or double an alert).
 */

export interface StoredEvent {
  id: string;
  siteId: string;
  deviceId: string;
  kind: string;
  seq: number;
  ts: string;
  receivedAt: number;
  drill: boolean;
  gatewayId: string | null;
  envelope: Envelope;
}

export interface IncomingEvent {
  envelope: Envelope;
  gatewayId: string | null;
  receivedAt: number;
}

export interface RejectRecord {
  at: number;
  gatewayId: string | null;
  topic: string;
  code: string;
  message: string;
  excerpt?: string;
}

export interface EventQuery {
  siteIds?: string[] | undefined;
  kinds?: string[] | undefined;
  kind?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  limit?: number | undefined;
}

/** A position in (received_at, id) order. */
export interface EventCursor {
  receivedAt: number;
  id: string;
}

export interface EventRepo {
  /** Inserts in one transaction; returns per item whether it was new (false: duplicate id). */
  insertBatch(items: IncomingEvent[]): Promise<boolean[]>;
  markProcessed(id: string): Promise<void>;
  /** Marks several events processed in one transaction (one commit for a burst of events that change no alert). */
  markProcessedMany(ids: string[]): Promise<void>;
  /** The highest sequence number of this device whose event has changed alerts already. */
  lastProcessedSeq(siteId: string, deviceId: string): Promise<number | null>;
  unprocessed(limit: number): Promise<StoredEvent[]>;
  /**
   * Unprocessed events of these kinds after a cursor, in (received_at, id) order: lets a module
   * that derives its own state from events (the fire-control room) replay what a crash left
   * unapplied before the alert service marks those events processed.
   */
  unprocessedOf(kinds: readonly string[], after: EventCursor | null, limit: number): Promise<StoredEvent[]>;
  list(q: EventQuery): Promise<StoredEvent[]>;
  count(q?: EventQuery): Promise<number>;
  recordReject(r: RejectRecord): Promise<void>;
  rejects(limit: number): Promise<RejectRecord[]>;
}

export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export interface Alert {
  id: string;
  siteId: string;
  source: string;
  type: string;
  severity: Severity;
  state: AlertState;
  title: string;
  eventId: string | null;
  drill: boolean;
  count: number;
  openedAt: number;
  updatedAt: number;
  ackedAt: number | null;
  ackedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  escalationLevel: number;
  /**
   * When the next escalation step is due: a repeat at this level or the climb
   * to the next one (null: nothing more to do).
   */
  nextEscalationAt: number | null;
  /** Repeats sent at the current escalation level (reset on each climb); 0 when absent. */
  repeatCount?: number;
  /** Recorded but not escalated or notified: a maintenance silence, or inhibited by an offline gateway. */
  suppressed: Suppression | null;
}

export type Suppression = 'silenced' | 'inhibited';

export interface Silence {
  id: string;
  siteId: string;
  /** null: every alert type of the site. */
  type: string | null;
  /** null: every source. */
  source: string | null;
  startsAt: number;
  endsAt: number;
  reason: string;
  createdBy: string;
  createdAt: number;
}

export interface SilenceRepo {
  add(s: Silence): Promise<void>;
  /** Silences of these sites (all when undefined) still in force at `now`. */
  active(now: number, siteIds?: string[]): Promise<Silence[]>;
  get(id: string): Promise<Silence | null>;
  /** Ends a silence now; false if it had already ended. */
  end(id: string, now: number): Promise<boolean>;
}

export interface AuditEntry {
  alertId: string;
  at: number;
  actor: string;
  /** `repeated`: the device triggered again; `renotified`: the escalation level was reminded again. */
  action: 'opened' | 'repeated' | 'acknowledged' | 'resolved' | 'escalated' | 'renotified';
  fromState: AlertState | null;
  toState: AlertState | null;
  level: number | null;
  note: string | null;
  eventId: string | null;
}

export interface AlertKey {
  siteId: string;
  source: string;
  type: string;
}

export interface OpenDraft extends AlertKey {
  id: string;
  severity: Severity;
  title: string;
  eventId: string | null;
  drill: boolean;
  at: number;
  nextEscalationAt: number | null;
  suppressed: Suppression | null;
  actor: string;
  /** The triggering event's per-device sequence number, to recognise events that arrive late. */
  seq?: number | undefined;
}

export type OpenResult = { alert: Alert; created: boolean };

export interface AlertQuery {
  siteIds?: string[] | undefined;
  types?: string[] | undefined;
  states?: AlertState[] | undefined;
  limit?: number | undefined;
}

export interface AlertRepo {
  /** Opens the alert, or counts a repeat on the open one with the same key. */
  /**
   * Both event-driven methods claim `processedEventId` in the same transaction
   * and do nothing ('already-processed') when it was claimed before: each
   * stored event changes alerts exactly once, across restarts and instances.
   */
  openOrRepeat(draft: OpenDraft, processedEventId?: string): Promise<OpenResult | 'already-processed'>;
  /** Resolves the open alert with this key, if any. */
  resolveByKey(
    key: AlertKey,
    by: { actor: string; at: number; note: string; eventId: string | null; seq?: number | undefined },
    processedEventId?: string,
  ): Promise<Alert | null | 'already-processed'>;
  /** User transition with compare-and-set on the current state; null when it did not apply. */
  transition(
    id: string,
    from: AlertState[],
    to: 'acknowledged' | 'resolved',
    by: { actor: string; at: number; note: string | null },
  ): Promise<Alert | null>;
  /** Escalates one level if still open at `fromLevel`; null when someone else got there first. */
  escalate(
    id: string,
    fromLevel: number,
    at: number,
    nextEscalationAt: number | null,
    actor: string,
  ): Promise<Alert | null>;
  get(id: string): Promise<Alert | null>;
  list(q: AlertQuery): Promise<Alert[]>;
  /**
   * Records one repeat at `level` if the alert is still open there with
   * `fromRepeat` repeats sent (compare-and-set): sets the count to `toRepeat`
   * (more than one above when missed repeats are skipped) and the next
   * deadline; appends a `renotified` audit entry. Null when it did not apply.
   */
  renotify(
    id: string,
    r: {
      level: number;
      fromRepeat: number;
      toRepeat: number;
      at: number;
      nextEscalationAt: number | null;
      actor: string;
      note: string | null;
    },
  ): Promise<Alert | null>;
  due(now: number, limit: number): Promise<Alert[]>;
  nextDueAt(): Promise<number | null>;
  audit(id: string): Promise<AuditEntry[]>;
}

export interface Site {
  id: string;
  name: string;
  region: string | null;
  createdAt: number;
}

export interface GatewayRecord {
  id: string;
  siteId: string;
  secretHash: string;
  disabled: boolean;
}

export interface Presence {
  gatewayId: string;
  siteId: string;
  state: 'online' | 'offline';
  changedAt: number;
  lastSeenAt: number | null;
  lastHeartbeatAt: number | null;
  heartbeatIntervalS: number | null;
  outboxDepth: number | null;
  reason: string | null;
}

export interface RegistryRepo {
  upsertSite(site: { id: string; name: string; region?: string | null }): Promise<void>;
  sites(): Promise<Site[]>;
  site(id: string): Promise<Site | null>;
  putGateway(g: { id: string; siteId: string; secretHash: string }): Promise<void>;
  gateway(id: string): Promise<GatewayRecord | null>;
  gateways(): Promise<GatewayRecord[]>;
  setPresence(p: Presence): Promise<void>;
  presence(): Promise<Presence[]>;
  upsertRegion(r: Region): Promise<void>;
  regions(): Promise<Region[]>;
  putInventory(siteId: string, body: unknown, at: number): Promise<void>;
  inventory(siteId: string): Promise<{ body: unknown; receivedAt: number } | null>;
}

/**
 * - admin: everything, everywhere
 * - institution_head / institution_staff: the sites listed on the user
 * - civil_affairs: every site in the user's region subtree
 * - fire_rescue: every site in the user's region subtree, fire-related alerts only
 */
export const ROLES = [
  'admin',
  'institution_head',
  'institution_staff',
  'civil_affairs',
  'fire_rescue',
] as const;
export type Role = (typeof ROLES)[number];

export const REGION_LEVELS = ['province', 'city', 'district', 'street'] as const;
export type RegionLevel = (typeof REGION_LEVELS)[number];

export interface Region {
  id: string;
  parentId: string | null;
  name: string;
  level: RegionLevel;
}

export interface User {
  id: string;
  username: string;
  passwordHash: string;
  role: Role;
  /** '*' for every site (admin); the institution roles list their sites. */
  siteIds: string[] | '*';
  /** The region whose subtree a civil-affairs or fire-rescue user oversees. */
  regionId: string | null;
}

export interface Session {
  userId: string;
  csrf: string;
  expiresAt: number;
}

export interface UserRepo {
  putUser(u: User): Promise<void>;
  byUsername(username: string): Promise<User | null>;
  byId(id: string): Promise<User | null>;
  createSession(tokenHash: string, s: Session, at: number): Promise<void>;
  session(tokenHash: string, now: number): Promise<Session | null>;
  deleteSession(tokenHash: string): Promise<void>;
}

export type CommandStatus = 'sent' | 'ok' | 'failed' | 'timeout';

export interface CommandRecord {
  id: string;
  siteId: string;
  name: string;
  args: Record<string, unknown>;
  actor: string;
  sentAt: number;
  status: CommandStatus;
  repliedAt: number | null;
  reply: Record<string, unknown> | null;
}

export interface CommandRepo {
  insert(c: CommandRecord): Promise<void>;
  /** Records the outcome once; a late or repeated reply does not overwrite it. */
  complete(
    id: string,
    status: CommandStatus,
    at: number,
    reply: Record<string, unknown> | null,
  ): Promise<boolean>;
  get(id: string): Promise<CommandRecord | null>;
  list(siteId: string, limit: number): Promise<CommandRecord[]>;
}

export interface CentralStore {
  commands: CommandRepo;
  fireRoom: FireRoomRepo;
  silences: SilenceRepo;
  events: EventRepo;
  alerts: AlertRepo;
  registry: RegistryRepo;
  users: UserRepo;
  close(): Promise<void>;
}
