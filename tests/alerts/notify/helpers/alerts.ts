import type { AlertChange, Notification } from '../../../../alerts/notify/types.js';
import type { Alert } from '../../../../storage/types.js';

export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

export function makeAlert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'alert-1',
    siteId: 'site-1',
    source: 'btn-203',
    type: 'emergency_call',
    severity: 'critical',
    state: 'open',
    title: 'Emergency call, room 203',
    eventId: 'ev-1',
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
    ...over,
  };
}

export function makeNotification(
  over: Partial<Alert> = {},
  change: AlertChange = 'opened',
  levelName = 'on_duty',
): Notification {
  const alert = makeAlert(over);
  return {
    dedupKey: `${alert.id}:${change}:${alert.escalationLevel}`,
    alert,
    change,
    level: alert.escalationLevel,
    levelName,
    createdAt: T0,
  };
}

import type { Message } from '../../../../alerts/notify/types.js';

export function messageOf(
  notifications: Notification[],
  over: Partial<Omit<Message, 'notifications'>> = {},
): Message {
  return {
    id: 'msg-1',
    channel: 'test',
    kind: notifications.length === 1 ? 'single' : 'group',
    notifications,
    recipients: [],
    done: new Set(),
    ...over,
  };
}
