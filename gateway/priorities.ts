import type { KindName } from '../protocol/index.js';

/**
 * Outbox lanes. Lower drains first. The lane is chosen by kind, never by the
 * action within a kind, so one device's events stay in one lane and keep
 * their order (a call and its cancel can never swap). `live` is the alarm
 * lane for alarms raised while the link is up (see Outbox.priorityOf).
 */
export const LANE = { live: -1, alarm: 0, normal: 5, bulk: 9 } as const;

const BY_KIND: Partial<Record<KindName, number>> = {
  emergency_call: LANE.alarm,
  panel_alarm: LANE.alarm,
};

export function laneOf(kind: KindName): number {
  return BY_KIND[kind] ?? LANE.normal;
}
