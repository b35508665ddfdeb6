import { type Static, Type } from '@sinclair/typebox';
import { SiteId } from './ids.js';
import { PROTOCOL_VERSION } from './version.js';

/** Retained on `.../status`; the gateway's last will carries state `offline`. */
export const GatewayStatus = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    siteId: SiteId,
    gatewayId: Type.String({ maxLength: 64 }),
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    ts: Type.String({ format: 'date-time' }),
    reason: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type GatewayStatus = Static<typeof GatewayStatus>;
