import { expect, it } from 'vitest';
import type { LogEntry, NotificationLog } from '../../../alerts/notify/log.js';
import { dedupKeyOf } from '../../../alerts/notify/types.js';
import type { Alert } from '../../../storage/types.js';
import { type SafetyCurrent, T0 } from './harness.js';

const alert = (id: string): Alert => ({
  id,
  siteId: 's1',
  source: 'btn-1',
  type: 'emergency_call',
  severity: 'critical',
  state: 'open',
  title: '紧急呼叫 101',
  eventId: null,
  drill: false,
  count: 1,
  openedAt: T0,
  updatedAt: T0,
  ackedAt: null,
  ackedBy: null,
  resolvedAt: null,
  resolvedBy: null,
  escalationLevel: 0,
  nextEscalationAt: null,
  suppressed: null,
});

export function logEntry(alertId: string, p: Partial<LogEntry> = {}): LogEntry {
  const dedupKey = p.dedupKey ?? dedupKeyOf(alertId, 'opened', 0);
  const createdAt = p.createdAt ?? T0;
  return {
    dedupKey,
    channel: 'webhook',
    alertId,
    siteId: 's1',
    change: 'opened',
    level: 0,
    status: 'pending',
    attempts: 0,
    messageId: null,
    messageKind: null,
    lastError: null,
    recipients: ['ops@example.org', '13800000000'],
    createdAt,
    updatedAt: createdAt,
    notification: {
      dedupKey,
      alert: alert(alertId),
      change: 'opened',
      level: 0,
      levelName: 'on_duty',
      createdAt,
    },
    ...p,
  };
}

/** The NotificationLog contract (alerts/notify/log.ts). */
export function notifyLogContract(current: () => SafetyCurrent): void {
  const log = () => current().store.notifyLog();

  it('notification log: claims each (dedup key, channel) once and keeps the snapshot', async () => {
    const e = logEntry('al-1');
    expect(await log().claim(e)).toBe(true);
    expect(await log().claim({ ...e, status: 'delivered' })).toBe(false);
    expect(await log().claim({ ...e, channel: 'dingtalk' })).toBe(true);
    expect(await log().list({ channel: 'webhook' })).toEqual([e]);
    expect(await log().list({ dedupKey: e.dedupKey })).toHaveLength(2);
  });

  it('notification log: record replaces by key, list filters and orders newest first', async () => {
    const a = logEntry('al-1', { createdAt: T0 });
    const b = logEntry('al-2', { createdAt: T0 + 1 });
    const c = logEntry('al-3', { createdAt: T0 + 2, channel: 'email' });
    for (const x of [a, b, c]) await log().claim(x);
    const delivered: LogEntry = {
      ...a,
      status: 'delivered',
      attempts: 2,
      messageId: 'm-1',
      messageKind: 'group',
      lastError: 'NOTIFY_HTTP_5XX: 502 from endpoint',
      updatedAt: T0 + 5,
    };
    const failed: LogEntry = { ...b, status: 'failed', attempts: 5, updatedAt: T0 + 6 };
    await log().record(delivered, failed);
    await log().record();
    expect(await log().list()).toEqual([c, failed, delivered]);
    expect(await log().list({ status: 'pending' })).toEqual([c]);
    expect(await log().list({ status: 'delivered', channel: 'webhook' })).toEqual([delivered]);
    expect(await log().list({ alertId: 'al-2' })).toEqual([failed]);
    expect(await log().list({ limit: 1 })).toEqual([c]);
    // recording an entry that was never claimed inserts it
    const d = logEntry('al-4', { createdAt: T0 + 3, status: 'delivered' });
    await log().record(d);
    expect((await log().list({ limit: 1 }))[0]).toEqual(d);
    expect(await log().claim(d)).toBe(false);
  });

  it('notification log: resumes its own pending entries, newest first', async () => {
    const resumable = async (limit: number) => {
      const l = log();
      return l.resumable ? l.resumable(limit) : l.list({ status: 'pending', limit });
    };
    const a = logEntry('al-1', { createdAt: T0 });
    const b = logEntry('al-2', { createdAt: T0 + 1 });
    const c = logEntry('al-3', { createdAt: T0 + 2 });
    for (const x of [a, b, c]) await log().claim(x);
    await log().record({ ...b, status: 'delivered', updatedAt: T0 + 5 });
    expect(await resumable(100)).toEqual([c, a]);
    expect(await resumable(1)).toEqual([c]);
  });

  it('notification log: two instances claiming the same notifications send each once', async () => {
    const other: NotificationLog = (await current().h.open()).notifyLog();
    const entries = Array.from({ length: 30 }, (_, i) => logEntry(`al-${i}`, { createdAt: T0 + i }));
    const wins = await Promise.all(entries.flatMap((e) => [log().claim(e), other.claim({ ...e })]));
    expect(wins.filter(Boolean)).toHaveLength(entries.length);
    for (let i = 0; i < entries.length; i++) expect(wins[2 * i]! !== wins[2 * i + 1]!).toBe(true);
    expect(await other.list({ status: 'pending' })).toHaveLength(entries.length);
  });
}
