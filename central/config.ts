import { type Static, Type } from '@sinclair/typebox';
import { DEFAULT_ESCALATION } from '../alerts/escalation.js';
import { EscalationLevelSchema } from '../alerts/escalation-config.js';
import { AlertRule } from '../alerts/rule-config.js';
import { TimeSeriesConfig } from '../storage/timeseries/config.js';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const CentralConfig = Type.Object(
  {
    dataDir: Type.String({ minLength: 1, default: 'data/central' }),
    mqtt: Type.Object(
      {
        /** embedded: aedes in this process; external: consume from Mosquitto/EMQX with a shared subscription. */
        mode: Type.Union([Type.Literal('embedded'), Type.Literal('external')], { default: 'embedded' }),
        external: Type.Optional(
          Type.Object(
            {
              url: Type.String({ pattern: '^(mqtt|mqtts|tcp|tls)://[^\\s]+$' }),
              username: Type.Optional(Type.String({ minLength: 1 })),
              /** Must stay the same across restarts: the broker keeps unacknowledged messages in this session. */
              clientId: Type.String({ minLength: 1, maxLength: 64 }),
              shareGroup: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'carewatch-ingest' }),
              caFile: Type.Optional(Type.String({ minLength: 1 })),
              /**
               * Connections of this instance in the share group (`clientId`, `clientId-1`, ...), each a
               * message in flight. The broker keeps queueing a share for a session that no longer connects:
               * when this is lowered, the next start drains the unused ids' sessions and deletes them.
               */
              consumers: Type.Integer({ minimum: 1, maximum: 64, default: 16 }),
            },
            { additionalProperties: false },
          ),
        ),
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 1883 }),
        tls: Type.Optional(
          Type.Object(
            { port: Port, certFile: Type.String({ minLength: 1 }), keyFile: Type.String({ minLength: 1 }) },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    http: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        secureCookies: Type.Boolean({ default: false }),
      },
      { additionalProperties: false, default: {} },
    ),
    alerts: Type.Object(
      {
        /** Rules tried before the built-in ones (see alerts/rule-config.ts). */
        rules: Type.Array(AlertRule, { default: [], maxItems: 500 }),
        /** External-broker mode: how long an event waits for its device's earlier sequence numbers. */
        reorderWindowS: Type.Number({ minimum: 0, maximum: 60, default: 3 }),
        /**
         * An event still unprocessed this long after it was stored is announced again (a safety net:
         * each module applies an event once); checked every half of it, at most every minute.
         */
        redeliverAfterS: Type.Number({ minimum: 1, maximum: 86_400, default: 120 }),
        escalation: Type.Object(
          {
            ackTimeoutS: Type.Number({ exclusiveMinimum: 0, default: DEFAULT_ESCALATION.ackTimeoutS }),
            /** Default chain: reminders at every level, every repeatEveryS (default ackTimeoutS / (repeats + 1)). */
            repeats: EscalationLevelSchema.properties.repeats,
            repeatEveryS: EscalationLevelSchema.properties.repeatEveryS,
            levels: Type.Array(Type.String({ minLength: 1 }), {
              minItems: 1,
              default: DEFAULT_ESCALATION.levels,
            }),
            chains: Type.Optional(
              Type.Array(
                Type.Object(
                  {
                    name: Type.String({ minLength: 1, maxLength: 64 }),
                    sites: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
                    types: Type.Optional(
                      Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), { minItems: 1 }),
                    ),
                    levels: Type.Array(EscalationLevelSchema, { minItems: 1, maxItems: 10 }),
                  },
                  { additionalProperties: false },
                ),
                { maxItems: 100 },
              ),
            ),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    fireRoom: Type.Object(
      {
        postCheckDeadlineS: Type.Number({ minimum: 1, maximum: 3600, default: 600 }),
        checkEveryS: Type.Number({ minimum: 0.1, maximum: 600, default: 30 }),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        /** PostgreSQL instead of the embedded SQLite file (several central instances); CAREWATCH_PG_URL also works. */
        postgresUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
      },
      { additionalProperties: false, default: {} },
    ),
    timeseries: TimeSeriesConfig,
    /** Notification channels and routes (webhook, DingTalk, WeCom, e-mail, SMS); none when absent. */
    notify: Type.Optional(Type.Unknown()),
    presence: Type.Object(
      { missedHeartbeats: Type.Number({ minimum: 1, default: 3 }) },
      { additionalProperties: false, default: {} },
    ),
    /** Clips and snapshots uploaded by the gateways (the footage itself stays at the sites). */
    media: Type.Object(
      {
        /** Uploaded clips and snapshots are kept this long (they are evidence of alarms: at least 30 days). */
        keepDays: Type.Integer({ minimum: 30, maximum: 3650, default: 365 }),
        /** The largest upload accepted, in MiB. */
        maxUploadMiB: Type.Integer({ minimum: 1, maximum: 4096, default: 512 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type CentralConfig = Static<typeof CentralConfig>;
