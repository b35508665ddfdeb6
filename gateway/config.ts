import { type Static, Type } from '@sinclair/typebox';
import { ConfigError } from '../lib/errors.js';
import { ID_PATTERN } from '../protocol/ids.js';
import { checkRetentionDays, RetentionInvalidError } from './retention/policy.js';

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

/** An ONVIF camera: the stream, snapshot and device information are asked of the camera itself. */
export const OnvifCameraSource = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[^\\s/@]+$' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 80 }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** Never logged; put into the RTSP URL handed to ffmpeg when the camera needs it. */
    password: Type.Optional(Type.String({ maxLength: 256 })),
    /** Profile token or name; default: the first H.264 profile. */
    profile: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** RTSP transport for recording (default tcp). */
    transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
    /** Device service path (default /onvif/device_service). */
    path: Type.Optional(Type.String({ pattern: '^/[^\\s]*$', maxLength: 256 })),
    /** Timeout of one SOAP request (default 5000 ms). */
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
    /** Subscribe to PullPoint events (motion, tampering) where the camera offers them (default true). */
    events: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type OnvifCameraSource = Static<typeof OnvifCameraSource>;

export const CameraDevice = Type.Object(
  {
    deviceId: Id,
    /** entrance, reception_hall, duty_room, corridor, canteen, or another named public area */
    zone: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
    label: Type.Optional(Type.String({ maxLength: 128 })),
    /** The camera's main stream (any live ffmpeg input); exactly one of `streamUrl` and `onvif`. */
    streamUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    /** Resolve the stream from the camera over ONVIF; exactly one of `streamUrl` and `onvif`. */
    onvif: Type.Optional(OnvifCameraSource),
    substreamUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
    /** Devices (call buttons, panel zones, fire devices) this camera sees: their alarms get a clip from it. */
    covers: Type.Array(Id, { default: [], maxItems: 256 }),
    /**
     * Days this camera's footage is kept, above the site's `retentionDays` (default: the site's).
     * Below 30 days it is refused (`RETENTION_BELOW_FLOOR`), below the site's value too
     * (`RETENTION_INVALID`): a camera may only keep longer. See `checkCamerasConfig`.
     */
    retentionDays: Type.Optional(Type.Integer()),
  },
  {
    additionalProperties: false,
    // ajv reports e.g. "/cameras/devices/1: must have required property 'streamUrl'; ...
    // must have required property 'onvif'" (neither) or "must match exactly one schema in oneOf" (both)
    oneOf: [{ required: ['streamUrl'] }, { required: ['onvif'] }],
  },
);
export type CameraDevice = Static<typeof CameraDevice>;

/** Smallest configurable disk reserve (64 MiB). */
export const MIN_RESERVE_BYTES = 64 * 1024 ** 2;

/**
 * What the retention sweeper does when the recordings disk runs short
 * (gateway/retention/degradation.ts, sweeper.ts). It only ever reduces or
 * stops recording; footage younger than its retention is never deleted.
 * Every field is optional: an absent one takes the sweeper's default.
 */
export const CameraDegradation = Type.Object(
  {
    /**
     * What one step does while free space is below the reserve and the disk is still filling:
     * `stop_lowest_priority` (default) stops the least important camera still recording;
     * `reduce_to_substream` switches the least important camera with a `substreamUrl` to it,
     * then continues as `stop_lowest_priority`; `stop_all` stops every camera at once.
     */
    mode: Type.Optional(
      Type.Union([
        Type.Literal('stop_lowest_priority'),
        Type.Literal('reduce_to_substream'),
        Type.Literal('stop_all'),
      ]),
    ),
    /** Camera ids, most important first; configured cameras not listed are degraded first (by id). */
    priority: Type.Optional(Type.Array(Id, { maxItems: 256, uniqueItems: true })),
    /** Free bytes below which degradation starts (default: one hour of the site's bandwidth, at least 512 MiB). */
    reserveBytes: Type.Optional(Type.Integer({ minimum: MIN_RESERVE_BYTES, maximum: 2 ** 52 })),
    /** Free bytes from which steps are undone (default 2 × reserve); above `reserveBytes`, which it needs. */
    resumeBytes: Type.Optional(Type.Integer({ minimum: MIN_RESERVE_BYTES, maximum: 2 ** 52 })),
    /** `retention_at_risk` is raised when the disk cannot hold every camera's days + this margin (default 2). */
    marginDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
  },
  // ajv: "/cameras/degradation: must have property reserveBytes when property resumeBytes is present"
  { additionalProperties: false, dependencies: { resumeBytes: ['reserveBytes'] } },
);
export type CameraDegradation = Static<typeof CameraDegradation>;

export const CamerasConfig = Type.Object(
  {
    recordingsDir: Type.String({ minLength: 1 }),
    /** Kept footage in days; the regulations' floor is 30 and a lower value is refused. */
    retentionDays: Type.Integer({ default: 30 }),
    segmentSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 10 }),
    /** Device id that site-wide storage events (retention forecast) are reported under. */
    siteDeviceId: Type.String({ pattern: ID_PATTERN, default: 'recorder' }),
    devices: Type.Array(CameraDevice, { minItems: 1, maxItems: 256 }),
    /** Event clips cut from the segments around an emergency call or a fire alarm of a covered device. */
    clips: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        beforeS: Type.Integer({ minimum: 0, maximum: 300, default: 15 }),
        afterS: Type.Integer({ minimum: 1, maximum: 300, default: 15 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Recording degradation when the disk runs short (never deletes footage younger than its retention). */
    degradation: Type.Optional(CameraDegradation),
  },
  { additionalProperties: false },
);
export type CamerasConfig = Static<typeof CamerasConfig>;

/**
 * The checks of the cameras config that the schema cannot express, run by the
 * camera module before anything starts (a failure refuses to start):
 * - the site's `retentionDays` and each camera's are at least 30 days
 *   (`RETENTION_BELOW_FLOOR`, the regulation in the message) and whole days up
 *   to 3650 (`RETENTION_INVALID`);
 * - a camera's `retentionDays` is not below the site's (`RETENTION_INVALID`):
 *   a camera may only keep its footage longer than the site;
 * - `degradation.priority` names configured cameras only, and
 *   `degradation.resumeBytes` is above `degradation.reserveBytes` (`CONFIG_INVALID`).
 * Errors name the field's path, e.g. `site.yaml: /cameras/devices/1/retentionDays (cam-2): ...`.
 * Returns the per-camera days that are configured (camera id → days).
 */
export function checkCamerasConfig(config: CamerasConfig, source?: string): Record<string, number> {
  const at = (path: string) => (source ? `${source}: ${path}` : path);
  const siteDays = checkRetentionDays(config.retentionDays, at('/cameras/retentionDays'));
  const days: Record<string, number> = {};
  config.devices.forEach((c, i) => {
    if (c.retentionDays === undefined) return;
    const where = at(`/cameras/devices/${i}/retentionDays (${c.deviceId})`);
    const n = checkRetentionDays(c.retentionDays, where);
    if (n < siteDays) {
      throw new RetentionInvalidError(
        `${where}: ${n} days is below the site's retentionDays (${siteDays}): a camera may only keep its footage longer than the site; remove it to use the site's days`,
        { where, days: n, siteDays },
      );
    }
    days[c.deviceId] = n;
  });
  const deg = config.degradation;
  const ids = new Set(config.devices.map((c) => c.deviceId));
  deg?.priority?.forEach((id, i) => {
    if (!ids.has(id)) {
      throw new ConfigError(
        `${at(`/cameras/degradation/priority/${i}`)}: ${JSON.stringify(id)} is not a configured camera (cameras.devices[].deviceId)`,
        { cameraId: id },
      );
    }
  });
  if (
    deg?.resumeBytes !== undefined &&
    deg.reserveBytes !== undefined &&
    deg.resumeBytes <= deg.reserveBytes
  ) {
    throw new ConfigError(
      `${at('/cameras/degradation/resumeBytes')}: must be above reserveBytes (${deg.reserveBytes}), got ${deg.resumeBytes}`,
      { resumeBytes: deg.resumeBytes, reserveBytes: deg.reserveBytes },
    );
  }
  return days;
}

export const Gb26875GatewayConfig = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 9300 }),
    checksumSpan: Type.Optional(
      Type.Union([Type.Literal('header+data'), Type.Literal('start+header+data'), Type.Literal('data')]),
    ),
    /** Transmission devices by address (declared in the inventory as `fire-{address}`). */
    devices: Type.Array(
      Type.Object(
        {
          address: Type.Integer({ minimum: 0, maximum: 2 ** 48 - 1 }),
          label: Type.Optional(Type.String({ maxLength: 128 })),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
  },
  { additionalProperties: false },
);
export type Gb26875GatewayConfig = Static<typeof Gb26875GatewayConfig>;

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
        /**
         * The central's HTTP(S) base URL, where snapshots and clips are uploaded
         * (with the gateway's own credentials); without it no media leave the site.
         */
        httpUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
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
    cameras: Type.Optional(CamerasConfig),
    /** User information transmission devices of fire alarm systems (GB/T 26875.3). */
    gb26875: Type.Optional(Gb26875GatewayConfig),
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
