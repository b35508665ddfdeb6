import type { AlertChange, Message, Notification } from './types.js';

export type LogStatus = 'pending' | 'delivered' | 'failed';

/** One notification on one channel: claimed (pending), then delivered or failed. */
export interface LogEntry {
  dedupKey: string;
  channel: string;
  alertId: string;
  siteId: string;
  change: AlertChange;
  level: number;
  status: LogStatus;
  /** Send attempts of the message(s) that carried it. */
  attempts: number;
  /** The message that carried it last (a group or summary carries several notifications). */
  messageId: string | null;
  messageKind: Message['kind'] | null;
  /** `CODE: message` of the last failure. */
  lastError: string | null;
  recipients: string[];
  createdAt: number;
  updatedAt: number;
  /** The snapshot, so a pending notification can be sent after a restart. */
  notification: Notification;
}

export interface LogQuery {
  channel?: string | undefined;
  alertId?: string | undefined;
  dedupKey?: string | undefined;
  status?: LogStatus | undefined;
  /** Newest first; default 1000. */
  limit?: number | undefined;
}

/**
 * Where the dispatcher writes what it sent. `claim` is the dedup check: it
 * inserts (dedupKey, channel) as pending and answers false when that pair is
 * known already, whatever its status.
 */
export interface NotificationLog {
  claim(entry: LogEntry): Promise<boolean>;
  /** Inserts or replaces entries (by dedupKey and channel). */
  record(...entries: LogEntry[]): Promise<void>;
  list(q?: LogQuery): Promise<LogEntry[]>;
  /**
   * The pending entries this process sends again at start, newest first.
   * Without it: every pending entry (a log written by one process). A log
   * shared by several central instances answers only this instance's own
   * entries from its earlier run, so a restart never resends what another
   * live instance is still delivering.
   */
  resumable?(limit: number): Promise<LogEntry[]>;
  /**
   * A log shared by several instances: renews this instance's lease and
   * answers whether it was still held (false when more than `leaseMs` passed
   * since the last renewal: others may have adopted its pending entries).
   */
  renew?(leaseMs: number): Promise<boolean>;
  /**
   * A log shared by several instances: takes over the pending entries of
   * instances whose lease lapsed more than `leaseMs` ago and answers them,
   * newest first; each entry goes to one adopter only.
   */
  adopt?(leaseMs: number, limit: number): Promise<LogEntry[]>;
  /** A log shared by several instances: gives the lease up, so live instances adopt at once. */
  release?(): Promise<void>;
}

function matches(e: LogEntry, q: LogQuery): boolean {
  return (
    (q.channel === undefined || e.channel === q.channel) &&
    (q.alertId === undefined || e.alertId === q.alertId) &&
    (q.dedupKey === undefined || e.dedupKey === q.dedupKey) &&
    (q.status === undefined || e.status === q.status)
  );
}

/** For tests and for a central without a store: forgets everything on restart. */
export class MemoryNotificationLog implements NotificationLog {
  private readonly entries = new Map<string, LogEntry>();

  async claim(entry: LogEntry): Promise<boolean> {
    const k = `${entry.channel}\u0000${entry.dedupKey}`;
    if (this.entries.has(k)) return false;
    this.entries.set(k, structuredClone(entry));
    return true;
  }

  async record(...entries: LogEntry[]): Promise<void> {
    for (const e of entries) this.entries.set(`${e.channel}\u0000${e.dedupKey}`, structuredClone(e));
  }

  async list(q: LogQuery = {}): Promise<LogEntry[]> {
    return [...this.entries.values()]
      .filter((e) => matches(e, q))
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, q.limit ?? 1000)
      .map((e) => structuredClone(e));
  }
}
