import { type Static, Type } from '@sinclair/typebox';
import { DeviceId, SiteId } from './ids.js';
import { PROTOCOL_VERSION } from './version.js';

/** One device a gateway answers for. Device types add their own fields. */
export const InventoryDevice = Type.Object(
  {
    deviceId: DeviceId,
    type: Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$', description: 'button, camera, panel, ...' }),
    label: Type.Optional(Type.String({ maxLength: 128 })),
    room: Type.Optional(Type.String({ maxLength: 64 })),
    zone: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: true },
);
export type InventoryDevice = Static<typeof InventoryDevice>;

/** Retained on `.../inventory`: what the site has, republished on every change. */
export const Inventory = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    siteId: SiteId,
    gatewayId: Type.String({ maxLength: 64 }),
    ts: Type.String({ format: 'date-time' }),
    devices: Type.Array(InventoryDevice, { maxItems: 5000 }),
  },
  { additionalProperties: true },
);
export type Inventory = Static<typeof Inventory>;
