import { CarewatchError } from '../../lib/errors.js';
import type { Alert, AuditEntry } from '../../storage/types.js';
import type { SafetySubject } from './safety.js';

/** What happened to the alert (the `change` of an `alert.changed` notice). */
export type AlertChange = AuditEntry['action'];

/**
 * One thing worth telling people: an alert snapshot at the moment of the
 * change, which change it was and at which escalation level. The dedup key is
 * `alertId:change:level`, so each (alert, change, level) is notified at most
 * once per channel (a repeat is notified once per level, not once per press);
 * a level's reminders (`renotified`) add the reminder's number.
 */
export interface Notification {
  dedupKey: string;
  alert: Alert;
  change: AlertChange;
  /** Escalation level of the alert at the change (0: on duty). */
  level: number;
  /** Name of that level in the alert's escalation chain, e.g. `institution_head`. */
  levelName: string;
  /** When the dispatcher took it in (ms since epoch). */
  createdAt: number;
  /** An accident or hazard notice (then `alert` is its snapshot in alert shape, see safety.ts). */
  safety?: SafetySubject | undefined;
}

/** A reminder of an escalation level (`renotified`) adds its number: each reminder is sent once. */
export function dedupKeyOf(alertId: string, change: AlertChange, level: number, repeat?: number): string {
  return repeat === undefined ? `${alertId}:${change}:${level}` : `${alertId}:${change}:${level}:${repeat}`;
}

/**
 * What a channel sends: one notification, or a summary of several (grouped
 * changes of one site, or over-limit notifications of a storm).
 */
export interface Message {
  /** Unique per message; sent to webhooks as the delivery id. */
  id: string;
  channel: string;
  /** `single`: one notification; `group`: a burst of one site; `summary`: over the rate limit. */
  kind: 'single' | 'group' | 'summary';
  notifications: Notification[];
  /** Addresses for this channel (e-mail addresses, phone numbers, mobiles to @); may be empty. */
  recipients: string[];
  /**
   * Recipients already served by an earlier attempt of this message (a
   * channel that fans out per recipient skips them on a retry).
   */
  done: Set<string>;
}

/** A way to reach people. `send` resolves once the far end has accepted the message. */
export interface Channel {
  readonly name: string;
  /** Throws `NotifyError` (or anything else, then treated as retryable). */
  send(message: Message): Promise<void>;
  close?(): Promise<void>;
}

/** Error codes of the notification layer. */
export type NotifyErrorCode =
  | 'NOTIFY_NETWORK'
  | 'NOTIFY_TIMEOUT'
  | 'NOTIFY_HTTP_STATUS'
  | 'NOTIFY_REJECTED'
  | 'NOTIFY_SMTP'
  | 'NOTIFY_NO_RECIPIENTS';

/** A failed delivery: `retryable` says whether trying again later can help. */
export class NotifyError extends CarewatchError {
  readonly retryable: boolean;

  constructor(
    code: NotifyErrorCode,
    message: string,
    retryable: boolean,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(code, message, details, options);
    this.name = 'NotifyError';
    this.retryable = retryable;
  }
}

/** Unknown failures are retried (the attempts are capped anyway). */
export function isRetryable(err: unknown): boolean {
  return err instanceof NotifyError ? err.retryable : true;
}
