import { type Static, Type } from '@sinclair/typebox';
import { defineKind } from '../envelope.js';

/** Periodic proof of life from a gateway, with the figures that tell its health. */
export const GatewayHeartbeatData = Type.Object(
  {
    uptimeS: Type.Number({ minimum: 0 }),
    intervalS: Type.Number({ exclusiveMinimum: 0, description: 'seconds until the next heartbeat' }),
    outboxDepth: Type.Integer({ minimum: 0 }),
    outboxOldestAgeS: Type.Optional(Type.Number({ minimum: 0 })),
    version: Type.String({ maxLength: 32 }),
  },
  { additionalProperties: false },
);
export type GatewayHeartbeatData = Static<typeof GatewayHeartbeatData>;

export const gatewayHeartbeat = defineKind(
  'gateway_heartbeat',
  'telemetry',
  GatewayHeartbeatData,
  'gateway proof of life',
);
