import type { CentralBus } from '../../central/bus.js';
import type { Severity } from '../../storage/types.js';
import type { Accident, AccidentNotice } from '../accidents/types.js';
import type { Hazard } from '../hazards/types.js';
import type { AlertChange, Notification } from './types.js';

/**
 * Accidents (1-hour report deadline) and the hazard ledger through the same
 * notification pipeline as alerts: log claim, routes, lanes, retries. Each
 * notice becomes a `Notification` whose `alert` is a snapshot in alert shape
 * (type `accident` or `hazard`, so routes can select them by `types`) and
 * whose `safety` carries the accident or hazard itself for the message text.
 */
export const SAFETY_EVENTS = [
  'accident_classified',
  'accident_deadline_near',
  'accident_overdue',
  'hazard_opened',
  'hazard_overdue',
] as const;
export type SafetyEvent = (typeof SAFETY_EVENTS)[number];

export type SafetySubject =
  | {
      event: 'accident_classified' | 'accident_deadline_near' | 'accident_overdue';
      accident: Accident;
      remainingS: number;
    }
  | { event: 'hazard_opened' | 'hazard_overdue'; hazard: Hazard };

/** The alert change a route's `changes` matches, and the level its `levels` match. */
const STEP: Record<SafetyEvent, { change: AlertChange; level: number; severity: Severity }> = {
  accident_classified: { change: 'opened', level: 0, severity: 'critical' },
  accident_deadline_near: { change: 'escalated', level: 1, severity: 'critical' },
  accident_overdue: { change: 'escalated', level: 2, severity: 'critical' },
  hazard_opened: { change: 'opened', level: 0, severity: 'major' },
  hazard_overdue: { change: 'escalated', level: 1, severity: 'major' },
};

export function safetyNotification(subject: SafetySubject, now: number): Notification {
  const step = STEP[subject.event];
  const base = {
    drill: false,
    count: 1,
    updatedAt: now,
    ackedAt: null,
    ackedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    escalationLevel: step.level,
    nextEscalationAt: null,
    suppressed: null,
    severity: step.severity,
    state: 'open' as const,
  };
  const alert =
    'accident' in subject
      ? {
          ...base,
          id: subject.accident.id,
          siteId: subject.accident.siteId,
          source: subject.accident.alertId ? `alert:${subject.accident.alertId}` : 'accident',
          type: 'accident',
          title: subject.accident.title,
          eventId: null,
          openedAt: subject.accident.classifiedAt,
        }
      : {
          ...base,
          id: subject.hazard.id,
          siteId: subject.hazard.siteId,
          source: subject.hazard.source,
          type: 'hazard',
          title: subject.hazard.title,
          eventId: null,
          openedAt: subject.hazard.openedAt,
        };
  // a hazard is overdue at most once per deadline; a new deadline may be missed again
  const again = subject.event === 'hazard_overdue' ? `:${subject.hazard.rectifyBy}` : '';
  return {
    dedupKey: `${alert.type}:${alert.id}:${subject.event}${again}`,
    alert,
    change: step.change,
    level: step.level,
    levelName: subject.event,
    createdAt: now,
    safety: structuredClone(subject),
  };
}

/** Subscribes to the accident and hazard notices of the central bus; returns the unsubscribe. */
export function onSafetyNotices(
  bus: Pick<CentralBus, 'on'>,
  now: () => number,
  submit: (n: Notification) => void,
): () => void {
  const accident =
    (event: 'accident_classified' | 'accident_deadline_near' | 'accident_overdue') => (n: AccidentNotice) =>
      submit(safetyNotification({ event, accident: n.accident, remainingS: n.remainingS }, now()));
  const offs = [
    bus.on('accident.classified', accident('accident_classified')),
    bus.on('accident.deadline_near', accident('accident_deadline_near')),
    bus.on('accident.overdue', accident('accident_overdue')),
    bus.on('hazard.opened', ({ hazard }) =>
      submit(safetyNotification({ event: 'hazard_opened', hazard }, now())),
    ),
    bus.on('hazard.overdue', ({ hazard }) =>
      submit(safetyNotification({ event: 'hazard_overdue', hazard }, now())),
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}
