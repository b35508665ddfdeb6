import { type Static, Type } from '@sinclair/typebox';
import { defineKind } from '../envelope.js';

/**
 * An emergency call button (bedside, toilet, corridor pull cord).
 * - pressed:     the resident called for help
 * - cancelled:   the call was cancelled at the bedside (staff arrived)
 * - battery_low: the button reports a low battery
 * - unavailable: the button stopped answering on the local bus
 * - available:   it answers again
 */
export const EMERGENCY_CALL_ACTIONS = [
  'pressed',
  'cancelled',
  'battery_low',
  'unavailable',
  'available',
] as const;

export const EmergencyCallData = Type.Object(
  {
    action: Type.Union(EMERGENCY_CALL_ACTIONS.map((a) => Type.Literal(a))),
    room: Type.Optional(Type.String({ maxLength: 64 })),
    label: Type.Optional(Type.String({ maxLength: 128 })),
    battery: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    raw: Type.Optional(Type.String({ maxLength: 64, description: 'the device action as reported' })),
  },
  { additionalProperties: false },
);
export type EmergencyCallData = Static<typeof EmergencyCallData>;
export type EmergencyCallAction = EmergencyCallData['action'];

export const emergencyCall = defineKind(
  'emergency_call',
  'events',
  EmergencyCallData,
  'emergency call button action',
);
