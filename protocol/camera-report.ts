import { type Static, Type } from '@sinclair/typebox';
import { DeviceId } from './ids.js';

/**
 * What the gateway says about each camera in its retained inventory
 * (`devices[]` entries with `type: camera`): enough for the central to decide
 * coverage and retention compliance per required zone.
 */
export const CameraReport = Type.Object(
  {
    deviceId: DeviceId,
    type: Type.Literal('camera'),
    zone: Type.String({ minLength: 1, maxLength: 64 }),
    label: Type.Optional(Type.String({ maxLength: 128 })),
    online: Type.Boolean(),
    recording: Type.Boolean(),
    /** Oldest footage still kept (ISO time), null before the first segment. */
    oldestKeptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    /** Share of the policy window (or of the time since the first segment) covered by footage. */
    continuityPct: Type.Number({ minimum: 0, maximum: 100 }),
    policyDays: Type.Integer({ minimum: 30 }),
    forecastDays: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    /**
     * Free and total bytes of the volume holding the recordings (`fs.statfs`,
     * free as available to the gateway), the same for every camera of a
     * gateway; absent when the volume could not be read (and from gateways
     * before this field).
     */
    diskFreeBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    diskTotalBytes: Type.Optional(Type.Integer({ minimum: 1 })),
    /**
     * The gateway raises `retention_at_risk` when `forecastDays` falls below
     * `policyDays` plus this many days (its `degradation.marginDays`); absent
     * from gateways before this field (their margin is the default, 2).
     */
    atRiskMarginDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
  },
  { additionalProperties: true },
);
export type CameraReport = Static<typeof CameraReport>;
