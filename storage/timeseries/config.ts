import { type Static, Type } from '@sinclair/typebox';

const Duration = Type.String({ pattern: '^[1-9][0-9]*(h|d|w)$' });

/**
 * `timeseries:` in central.yaml. `embedded` keeps points in `timeseries.db`
 * next to the central's database; `influx` writes to InfluxDB 1.x (password in
 * CAREWATCH_INFLUX_PASSWORD).
 */
export const TimeSeriesConfig = Type.Object(
  {
    backend: Type.Union([Type.Literal('embedded'), Type.Literal('influx')], { default: 'embedded' }),
    influx: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://[^\\s]+$' }),
          database: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'carewatch' }),
          username: Type.Optional(Type.String({ minLength: 1 })),
          rawDuration: { ...Duration, default: '90d' },
          downsampledDuration: { ...Duration, default: '365d' },
        },
        { additionalProperties: false },
      ),
    ),
    /** Embedded backend: points older than this are deleted. */
    retentionDays: Type.Number({ minimum: 1, maximum: 3660, default: 90 }),
    batch: Type.Object(
      {
        maxPoints: Type.Integer({ minimum: 1, maximum: 50_000, default: 500 }),
        flushEveryMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 1000 }),
        maxBuffered: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 100_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type TimeSeriesConfig = Static<typeof TimeSeriesConfig>;
