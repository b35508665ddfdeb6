import type { PresenceNotice } from '../central/bus.js';
import type { Envelope, PanelAlarmData } from '../protocol/index.js';
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
    case 'panel_alarm':
      return panelRule(env.deviceId, env.data);
    case 'panel_status':
      return env.data.state === 'offline'
        ? open(
            'panel_offline',
            'major',
            `Alarm panel ${env.deviceId} silent${env.data.reason ? ` (${env.data.reason})` : ''}`,
          )
        : { op: 'resolve', type: 'panel_offline', note: 'panel reporting again' };
    case 'camera_state':
      return env.data.state === 'offline'
        ? open(
            'camera_offline',
            'major',
            `Camera ${env.deviceId}${env.data.zone ? ` (${env.data.zone})` : ''} offline`,
          )
        : { op: 'resolve', type: 'camera_offline', note: 'camera online again' };
    case 'camera_event':
      // Tampering (covered, turned away, defocused) is an alert; motion is recorded only.
      if (env.data.event !== 'tamper') return { op: 'none' };
      return env.data.active
        ? open(
            'camera_tamper',
            'warning',
            `Camera ${env.deviceId} tampered with (covered, moved or defocused)`,
          )
        : { op: 'resolve', type: 'camera_tamper', note: 'camera view restored' };
    case 'recording_state':
      if (env.data.state === 'recording')
        return { op: 'resolve', type: 'recording_stalled', note: 'recording again' };
      return open('recording_stalled', 'major', `Recording ${env.data.state} on camera ${env.deviceId}`);
    case 'retention_state':
      if (env.data.state === 'ok')
        return { op: 'resolve', type: 'retention_at_risk', note: 'storage forecast above policy' };
      return open(
        'retention_at_risk',
        env.data.state === 'reserve_reached' ? 'critical' : 'major',
        `Footage retention at risk: ${env.data.forecastDays === null ? '?' : env.data.forecastDays.toFixed(1)} days of capacity for a ${env.data.policyDays}-day policy`,
      );
    case 'post_check':
      return env.data.outcome === 'missed'
        ? open('post_check_missed', 'major', `Post check ${env.data.checkId} not answered`)
        : { op: 'none' };
    default:
      return { op: 'none' };
  }
}

function open(type: string, severity: Severity, title: string, escalates = false): RuleAction {
  return { op: 'open', type, severity, title, escalates };
}

const PANEL_TYPES: Partial<
  Record<PanelAlarmData['category'], { type: string; severity: Severity; label: string; escalates: boolean }>
> = {
  fire: { type: 'fire_alarm', severity: 'critical', label: 'Fire alarm', escalates: true },
  medical: { type: 'medical_alarm', severity: 'critical', label: 'Medical emergency', escalates: true },
  panic: { type: 'panic_alarm', severity: 'critical', label: 'Panic alarm', escalates: true },
  duress: { type: 'panic_alarm', severity: 'critical', label: 'Duress alarm', escalates: true },
  burglary: { type: 'intrusion', severity: 'major', label: 'Intrusion', escalates: false },
  trouble: { type: 'panel_trouble', severity: 'minor', label: 'Panel trouble', escalates: false },
  fault: { type: 'panel_trouble', severity: 'minor', label: 'Fire system fault', escalates: false },
  power_fault: { type: 'panel_trouble', severity: 'major', label: 'Power fault', escalates: false },
  supervise: { type: 'supervisory', severity: 'warning', label: 'Supervisory signal', escalates: false },
  shield: { type: 'part_shielded', severity: 'warning', label: 'Detector shielded', escalates: false },
};

/** Panel alarms are keyed per zone, so a restore ends exactly the alarm it restores. */
export function panelSource(deviceId: string, zone: string | undefined): string {
  return zone ? `${deviceId}:${zone}` : deviceId;
}

function panelRule(deviceId: string, d: PanelAlarmData): RuleAction {
  const t = PANEL_TYPES[d.category];
  if (!t) return { op: 'none' }; // tests, open/close, start/feedback: recorded as events only
  if (d.qualifier === 'restore') return { op: 'resolve', type: t.type, note: `restored (${d.code})` };
  const where = [d.zone ? `zone ${d.zone}` : '', d.text ?? ''].filter(Boolean).join(' ');
  return open(t.type, t.severity, `${t.label}${where ? `, ${where}` : ''} (${deviceId})`, t.escalates);
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
