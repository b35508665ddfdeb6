import { type Static, Type } from '@sinclair/typebox';
import { defineKind } from '../envelope.js';

/**
 * A normalized alarm-panel or fire-system report, whatever protocol carried it
 * (SIA DC-09 with Contact ID or SIA codes, GB/T 26875.3 from a user
 * information transmission device). `qualifier: restore` ends what `new`
 * began for the same device, category and zone.
 */
export const PANEL_CATEGORIES = [
  'fire',
  'medical',
  'panic',
  'duress',
  'burglary',
  'trouble',
  'fault',
  'power_fault',
  'shield',
  'supervise',
  'start',
  'feedback',
  'reset',
  'open_close',
  'test',
  'other',
] as const;

export const PanelAlarmData = Type.Object(
  {
    protocol: Type.Union([Type.Literal('dc09-cid'), Type.Literal('dc09-sia'), Type.Literal('gb26875')]),
    category: Type.Union(PANEL_CATEGORIES.map((c) => Type.Literal(c))),
    qualifier: Type.Union([Type.Literal('new'), Type.Literal('restore'), Type.Literal('still_present')]),
    code: Type.String({ maxLength: 32, description: "protocol code, e.g. '110', 'FA', 'part:fire'" }),
    zone: Type.Optional(Type.String({ maxLength: 64 })),
    partition: Type.Optional(Type.String({ maxLength: 16 })),
    account: Type.Optional(Type.String({ maxLength: 32 })),
    text: Type.Optional(
      Type.String({ maxLength: 256, description: 'description from the device (e.g. GB 18030 part text)' }),
    ),
    deviceTime: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type PanelAlarmData = Static<typeof PanelAlarmData>;

export const panelAlarm = defineKind(
  'panel_alarm',
  'events',
  PanelAlarmData,
  'alarm panel / fire system report',
);

/** A panel's supervision: heartbeats or periodic tests stopped (offline) or resumed. */
export const PanelStatusData = Type.Object(
  {
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    reason: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
export const panelStatus = defineKind('panel_status', 'events', PanelStatusData, 'alarm panel supervision');
