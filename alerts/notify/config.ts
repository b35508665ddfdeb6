import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { validateConfig } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';
import { SEVERITIES } from '../../storage/types.js';

const Url = Type.String({ pattern: '^https?://[^\\s]+$' });
const Name = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' });
const Severity = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));
const Change = Type.Union(
  ['opened', 'repeated', 'acknowledged', 'resolved', 'escalated', 'renotified'].map((c) => Type.Literal(c)),
);
const Headers = Type.Record(Type.String(), Type.String());

/** Token bucket: up to `capacity` messages at once, refilled at `perMinute`. */
const RateLimit = (capacity: number, perMinute: number) =>
  Type.Object(
    {
      capacity: Type.Integer({ minimum: 1, default: capacity }),
      perMinute: Type.Number({ exclusiveMinimum: 0, default: perMinute }),
    },
    { additionalProperties: false, default: {} },
  );

const common = (capacity: number, perMinute: number) => ({
  name: Name,
  timeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  /** Messages of this channel in flight at once. */
  concurrency: Type.Integer({ minimum: 1, maximum: 32, default: 2 }),
  rateLimit: RateLimit(capacity, perMinute),
});

export const WebhookChannelConfig = Type.Object(
  {
    type: Type.Literal('webhook'),
    ...common(30, 60),
    url: Url,
    secret: Type.Optional(Type.String({ minLength: 16 })),
    headers: Type.Optional(Headers),
  },
  { additionalProperties: false },
);

export const DingTalkChannelConfig = Type.Object(
  {
    type: Type.Literal('dingtalk'),
    // DingTalk accepts 20 messages a minute per robot.
    ...common(10, 18),
    baseUrl: Type.String({ pattern: '^https?://[^\\s?]+$', default: 'https://oapi.dingtalk.com' }),
    accessToken: Type.String({ minLength: 1 }),
    secret: Type.Optional(Type.String({ minLength: 1 })),
    msgtype: Type.Union([Type.Literal('markdown'), Type.Literal('text')], { default: 'markdown' }),
    atAllSeverities: Type.Array(Severity, { default: [] }),
  },
  { additionalProperties: false },
);

export const WeComChannelConfig = Type.Object(
  {
    type: Type.Literal('wecom'),
    // WeCom accepts 20 messages a minute per robot.
    ...common(10, 18),
    baseUrl: Type.String({ pattern: '^https?://[^\\s?]+$', default: 'https://qyapi.weixin.qq.com' }),
    key: Type.String({ minLength: 1 }),
    msgtype: Type.Union([Type.Literal('markdown'), Type.Literal('text')], { default: 'markdown' }),
  },
  { additionalProperties: false },
);

export const EmailChannelConfig = Type.Object(
  {
    type: Type.Literal('email'),
    ...common(20, 30),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
    /** Implicit TLS (port 465). */
    secure: Type.Boolean({ default: false }),
    starttls: Type.Union([Type.Literal('required'), Type.Literal('opportunistic'), Type.Literal('never')], {
      default: 'required',
    }),
    user: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String()),
    allowInsecureAuth: Type.Boolean({ default: false }),
    tlsRejectUnauthorized: Type.Boolean({ default: true }),
    heloName: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]+$' })),
    from: Type.String({ pattern: '^[^\\s<>@]+@[^\\s<>@]+$' }),
    fromName: Type.Optional(Type.String({ minLength: 1 })),
    to: Type.Array(Type.String({ pattern: '^[^\\s<>@]+@[^\\s<>@]+$' }), { default: [] }),
  },
  { additionalProperties: false },
);

export const SmsChannelConfig = Type.Object(
  {
    type: Type.Literal('sms'),
    ...common(10, 10),
    url: Url,
    token: Type.Optional(Type.String({ minLength: 1 })),
    headers: Type.Optional(Headers),
    to: Type.Array(Type.String({ pattern: '^\\+?[0-9]{5,20}$' }), { default: [] }),
    maxBytes: Type.Integer({ minimum: 70, maximum: 2000, default: 300 }),
  },
  { additionalProperties: false },
);

const CHANNEL_SCHEMAS: Record<string, TSchema> = {
  webhook: WebhookChannelConfig,
  dingtalk: DingTalkChannelConfig,
  wecom: WeComChannelConfig,
  email: EmailChannelConfig,
  sms: SmsChannelConfig,
};

export type WebhookChannelConfig = Static<typeof WebhookChannelConfig>;
export type DingTalkChannelConfig = Static<typeof DingTalkChannelConfig>;
export type WeComChannelConfig = Static<typeof WeComChannelConfig>;
export type EmailChannelConfig = Static<typeof EmailChannelConfig>;
export type SmsChannelConfig = Static<typeof SmsChannelConfig>;
export type ChannelConfig =
  | WebhookChannelConfig
  | DingTalkChannelConfig
  | WeComChannelConfig
  | EmailChannelConfig
  | SmsChannelConfig;

/** Which channels get which notifications; every matching route adds its channels. */
export const RouteConfig = Type.Object(
  {
    channels: Type.Array(Name, { minItems: 1 }),
    /** Default: every severity. */
    severities: Type.Optional(Type.Array(Severity, { minItems: 1 })),
    /** Default: every change. */
    changes: Type.Optional(Type.Array(Change, { minItems: 1 })),
    /** Escalation levels, by number (0: on duty) or by name (`institution_head`); default: every level. */
    levels: Type.Optional(Type.Array(Type.Union([Type.Integer({ minimum: 0 }), Name]), { minItems: 1 })),
    /** Alert types; default: every type. */
    types: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** Sites; default: every site. */
    sites: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** Per channel: e-mail addresses, phone numbers or mobiles to @ (instead of the channel's own list). */
    recipients: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String({ minLength: 1 })))),
  },
  { additionalProperties: false },
);
export type RouteConfig = Static<typeof RouteConfig>;

export const NotifyConfig = Type.Object(
  {
    /** Dashboard URL for links in messages, e.g. `https://carewatch.example.org`. */
    baseUrl: Type.Optional(Url),
    utcOffsetMinutes: Type.Integer({ minimum: -720, maximum: 840, default: 480 }),
    /** Display names of sites, e.g. `{ "site-1": "阳光养老院" }`. */
    siteNames: Type.Record(Type.String(), Type.String(), { default: {} }),
    /** Drills are notified only when this is set. */
    notifyDrills: Type.Boolean({ default: false }),
    /** Silenced or inhibited alerts are notified only when this is set. */
    notifySuppressed: Type.Boolean({ default: false }),
    channels: Type.Array(
      Type.Object(
        {
          type: Type.Unsafe<string>({ type: 'string', enum: Object.keys(CHANNEL_SCHEMAS) }),
          name: Name,
        },
        { additionalProperties: true },
      ),
      { default: [] },
    ),
    routes: Type.Array(RouteConfig, { default: [] }),
    retry: Type.Object(
      {
        /** Attempts per message, the first included. */
        maxAttempts: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
        baseDelayMs: Type.Integer({ minimum: 1, default: 1_000 }),
        maxDelayMs: Type.Integer({ minimum: 1, default: 60_000 }),
        /** Random spread of each delay, as a fraction (0: none). */
        jitter: Type.Number({ minimum: 0, maximum: 1, default: 0.2 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Several central instances sharing one PostgreSQL notification log: each
     * renews a lease every `renewS`; the pending notifications of an instance
     * that has not renewed for `expireS` are adopted and sent by a live one.
     */
    lease: Type.Object(
      {
        renewS: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 10 }),
        expireS: Type.Number({ exclusiveMinimum: 0, maximum: 86_400, default: 60 }),
      },
      { additionalProperties: false, default: {} },
    ),
    grouping: Type.Object(
      {
        /** Window per site and channel. */
        windowMs: Type.Integer({ minimum: 0, default: 10_000 }),
        /** Within a window the first `threshold` go out one by one; the rest become one message. */
        threshold: Type.Integer({ minimum: 1, default: 3 }),
        /** Severities that are never held back for grouping (the rate limit still applies). */
        neverGroup: Type.Array(Severity, { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type NotifyConfig = Omit<Static<typeof NotifyConfig>, 'channels'> & { channels: ChannelConfig[] };

/**
 * Validates the `notify` section, filling defaults. Each channel is checked
 * against the schema of its type, so errors name the exact field, e.g.
 * `central.yaml notify: /channels/1/accessToken: must have required property…`;
 * routes must name channels that exist.
 */
export function parseNotifyConfig(value: unknown, source = 'notify'): NotifyConfig {
  const top = validateConfig(NotifyConfig, value, source);
  const channels = top.channels.map((c, i) => {
    try {
      return validateConfig(CHANNEL_SCHEMAS[c.type]!, c, source) as ChannelConfig;
    } catch (err) {
      // re-anchor the paths of the channel's own schema at /channels/i
      const detail = (err as Error).message.slice(source.length + 2);
      const anchored = detail
        .split('; ')
        .map((part) => (part.startsWith('/:') ? `/channels/${i}${part.slice(1)}` : `/channels/${i}${part}`))
        .join('; ');
      throw new ConfigError(`${source}: ${anchored}`, { source });
    }
  });
  const names = new Set<string>();
  for (const [i, c] of channels.entries()) {
    if (names.has(c.name))
      throw new ConfigError(`${source}: /channels/${i}/name: duplicate name '${c.name}'`);
    names.add(c.name);
  }
  for (const [i, r] of top.routes.entries()) {
    for (const [j, ch] of r.channels.entries()) {
      if (!names.has(ch))
        throw new ConfigError(`${source}: /routes/${i}/channels/${j}: no channel named '${ch}'`);
    }
    for (const ch of Object.keys(r.recipients ?? {})) {
      if (!r.channels.includes(ch))
        throw new ConfigError(`${source}: /routes/${i}/recipients/${ch}: not one of the route's channels`);
    }
  }
  if (top.lease.expireS < 2 * top.lease.renewS) {
    // one late renewal must not hand a live instance's notifications to another
    throw new ConfigError(`${source}: /lease/expireS: must be at least twice renewS`);
  }
  if (top.retry.maxDelayMs < top.retry.baseDelayMs) {
    throw new ConfigError(`${source}: /retry/maxDelayMs: must be >= baseDelayMs`);
  }
  return { ...top, channels };
}
