import { type Static, Type } from '@sinclair/typebox';
import { defineKind } from '../envelope.js';

/** The places the regulations require cameras to cover (plus other named public areas). */
export const REQUIRED_ZONES = ['entrance', 'reception_hall', 'duty_room', 'corridor', 'canteen'] as const;
export type RequiredZone = (typeof REQUIRED_ZONES)[number];

export const CameraStateData = Type.Object(
  {
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    zone: Type.Optional(Type.String({ maxLength: 64 })),
    reason: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type CameraStateData = Static<typeof CameraStateData>;
export const cameraState = defineKind('camera_state', 'events', CameraStateData, 'camera reachable or not');

export const RecordingStateData = Type.Object(
  {
    state: Type.Union([
      Type.Literal('recording'),
      Type.Literal('stalled'),
      Type.Literal('degraded'),
      Type.Literal('stopped'),
    ]),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    reason: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type RecordingStateData = Static<typeof RecordingStateData>;
export const recordingState = defineKind('recording_state', 'events', RecordingStateData, 'recorder health');

export const RetentionStateData = Type.Object(
  {
    state: Type.Union([Type.Literal('ok'), Type.Literal('at_risk'), Type.Literal('reserve_reached')]),
    policyDays: Type.Integer({ minimum: 30 }),
    forecastDays: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    freeBytes: Type.Integer({ minimum: 0 }),
    reason: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type RetentionStateData = Static<typeof RetentionStateData>;
export const retentionState = defineKind(
  'retention_state',
  'events',
  RetentionStateData,
  'storage forecast vs policy',
);
