import type { PresenceNotice } from '../central/bus.js';
import type { Envelope } from '../protocol/index.js';
import type { Severity } from '../storage/types.js';

/**
 * First-cut rules: which normalized events open and resolve which alerts.
 * An alert's key is (site, source, type); source is the device (or gateway).
 */
export type RuleAction =
  | { op: 'open'; type: string; severity: Severity; title: string; escalates: boolean }
  | { op: 'resolve'; type: string; note: string }
  | { op: 'none' };

export function actionForEvent(env: Envelope): RuleAction {
  switch (env.kind) {
    case 'emergency_call': {
      const where = env.data.room ? `room ${env.data.room}` : env.deviceId;
      switch (env.data.action) {
        case 'pressed':
          return {
            op: 'open',
            type: 'emergency_call',
            severity: 'critical',
            title: `Emergency call, ${where}`,
            escalates: true,
          };
        case 'cancelled':
          return { op: 'resolve', type: 'emergency_call', note: 'cancelled at the bedside' };
        case 'battery_low':
          return {
            op: 'open',
            type: 'low_battery',
            severity: 'warning',
            title: `Low battery, ${where}`,
            escalates: false,
          };
        case 'unavailable':
          return {
            op: 'open',
            type: 'device_unavailable',
            severity: 'minor',
            title: `Call button unavailable, ${where}`,
            escalates: false,
          };
        case 'available':
          return { op: 'resolve', type: 'device_unavailable', note: 'device available again' };
      }
      return { op: 'none' };
    }
    default:
      return { op: 'none' };
  }
}

export function actionForPresence(p: PresenceNotice): RuleAction {
  return p.state === 'offline'
    ? {
        op: 'open',
        type: 'gateway_offline',
        severity: 'major',
        title: `Gateway ${p.gatewayId} offline${p.reason ? ` (${p.reason})` : ''}`,
        escalates: false,
      }
    : { op: 'resolve', type: 'gateway_offline', note: 'gateway back online' };
}
