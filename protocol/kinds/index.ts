import type { Static } from '@sinclair/typebox';
import { cameraState, recordingState, retentionState } from './camera.js';
import { cameraEvent } from './camera-event.js';
import { emergencyCall } from './emergency-call.js';
import { attendance, postCheck } from './fire-room.js';
import { gatewayHeartbeat } from './gateway-heartbeat.js';
import { panelAlarm, panelStatus } from './panel-alarm.js';

/**
 * Every message kind carewatch knows. Adding a device type means adding a file
 * in this folder and one entry here; nothing else re-declares a payload.
 */
export const KINDS = {
  [emergencyCall.kind]: emergencyCall,
  [gatewayHeartbeat.kind]: gatewayHeartbeat,
  [panelAlarm.kind]: panelAlarm,
  [panelStatus.kind]: panelStatus,
  [cameraState.kind]: cameraState,
  [cameraEvent.kind]: cameraEvent,
  [recordingState.kind]: recordingState,
  [retentionState.kind]: retentionState,
  [attendance.kind]: attendance,
  [postCheck.kind]: postCheck,
} as const;

export type KindName = keyof typeof KINDS;

/** The typed envelope of one kind. */
export type EnvelopeOf<K extends KindName> = Static<(typeof KINDS)[K]['envelope']> & {
  kind: K;
  data: Static<(typeof KINDS)[K]['data']>;
};

/** Any valid carewatch envelope, discriminated by `kind`. */
export type Envelope = { [K in KindName]: EnvelopeOf<K> }[KindName];

export function isKnownKind(kind: string): kind is KindName {
  return Object.hasOwn(KINDS, kind);
}

export * from './camera.js';
export * from './camera-event.js';
export * from './emergency-call.js';
export * from './fire-room.js';
export * from './gateway-heartbeat.js';
export * from './panel-alarm.js';
