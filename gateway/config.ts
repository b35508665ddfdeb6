import { type Static, Type } from '@sinclair/typebox';
import { ID_PATTERN } from '../protocol/ids.js';

const Id = Type.String({ pattern: ID_PATTERN });
const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ButtonDevice = Type.Object(
  {
    deviceId: Id,
    /** Local-bus topic of the button; defaults to `zigbee2mqtt/{deviceId}`. */
    topic: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[^#+]+$' })),
    room: Type.Optional(Type.String({ maxLength: 64 })),
    label: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type ButtonDevice = Static<typeof ButtonDevice>;

export const AttendanceDevice = Type.Object(
  {
    deviceId: Id,
    source: Type.Union([Type.Literal('badge'), Type.Literal('face'), Type.Literal('presence')]),
    /** Local-bus topic; defaults to `attendance/{deviceId}`. */
    topic: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[^#+]+$' })),
    room: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type AttendanceDevice = Static<typeof AttendanceDevice>;

export const Dc09Account = Type.Object(
  {
    account: Type.String({ pattern: '^[0-9A-Fa-f]{3,16}$' }),
    label: Type.Optional(Type.String({ maxLength: 128 })),
    /** AES key in hex (128/192/256 bit): the panel must encrypt. */
    key: Type.Optional(Type.String({ pattern: '^([0-9A-Fa-f]{32}|[0-9A-Fa-f]{48}|[0-9A-Fa-f]{64})$' })),
    receiver: Type.Optional(Type.String({ maxLength: 6 })),
    prefix: Type.Optional(Type.String({ maxLength: 6 })),
    requireTimestamp: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const Dc09Config = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    tcpPort: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], { default: 12345 }),
    udpPort: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], { default: 12345 }),
    supervisionTimeoutS: Type.Number({ minimum: 10, default: 600 }),
    accounts: Type.Array(Dc09Account, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type Dc09Config = Static<typeof Dc09Config>;

export const GatewayConfig = Type.Object(
  {
    siteId: Id,
    siteName: Type.Optional(Type.String({ maxLength: 128 })),
    gatewayId: Id,
    /** The gateway's MQTT password; `CAREWATCH_GATEWAY_PASSWORD` overrides it. */
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 256 })),
    dataDir: Type.String({ minLength: 1 }),
    central: Type.Object(
      {
        url: Type.String({ pattern: '^(mqtt|mqtts|tcp|tls)://[^\\s]+$' }),
        caFile: Type.Optional(Type.String({ minLength: 1 })),
        rejectUnauthorized: Type.Boolean({ default: true }),
        keepaliveS: Type.Integer({ minimum: 1, maximum: 3600, default: 30 }),
        inflight: Type.Integer({ minimum: 1, maximum: 1000, default: 64 }),
      },
      { additionalProperties: false },
    ),
    localBus: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 1884 }),
      },
      { additionalProperties: false, default: {} },
    ),
    heartbeatIntervalS: Type.Number({ minimum: 1, maximum: 3600, default: 30 }),
    buttons: Type.Object(
      {
        batteryLowPercent: Type.Integer({ minimum: 1, maximum: 99, default: 20 }),
        pressedActions: Type.Array(Type.String({ minLength: 1 }), {
          minItems: 1,
          default: ['single', 'sos', 'emergency', 'press', 'on'],
        }),
        cancelledActions: Type.Array(Type.String({ minLength: 1 }), {
          minItems: 1,
          default: ['double', 'cancel', 'hold', 'off'],
        }),
        devices: Type.Array(ButtonDevice, { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Alarm panels dialling SIA DC-09. */
    dc09: Type.Optional(Dc09Config),
    attendance: Type.Object(
      { devices: Type.Array(AttendanceDevice, { default: [] }) },
      { additionalProperties: false, default: {} },
    ),
    metrics: Type.Optional(
      Type.Object(
        { host: Type.String({ default: '127.0.0.1' }), port: Port },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type GatewayConfig = Static<typeof GatewayConfig>;
