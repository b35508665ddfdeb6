import { type Static, Type } from '@sinclair/typebox';
import { defineKind } from '../envelope.js';

/**
 * An event a camera reports itself (ONVIF PullPoint): motion, or tampering
 * (covered, moved, defocused: a global scene change). `active: false` ends
 * what `active: true` began for the same camera and event.
 */
export const CameraEventData = Type.Object(
  {
    event: Type.Union([Type.Literal('motion'), Type.Literal('tamper')]),
    active: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type CameraEventData = Static<typeof CameraEventData>;
export const cameraEvent = defineKind(
  'camera_event',
  'events',
  CameraEventData,
  'motion or tampering seen by a camera',
);
