import { hostname } from 'node:os';
import { type Clock, systemClock } from '../../lib/clock.js';
import type { ChannelConfig, NotifyConfig } from './config.js';
import { DingTalkChannel } from './dingtalk.js';
import { EmailChannel } from './email.js';
import type { FormatOptions } from './format.js';
import { HttpJsonSmsProvider, SmsChannel, type SmsProvider } from './sms.js';
import type { Channel } from './types.js';
import { WebhookChannel } from './webhook.js';
import { WeComChannel } from './wecom.js';

export function formatOptions(config: NotifyConfig): FormatOptions {
  return {
    baseUrl: config.baseUrl,
    utcOffsetMinutes: config.utcOffsetMinutes,
    siteName: (id) => config.siteNames[id],
  };
}

/** Builds one channel from its validated config. `smsProvider` replaces the HTTP provider of SMS channels. */
export function createChannel(
  c: ChannelConfig,
  format: FormatOptions,
  opts: { clock?: Clock; smsProvider?: SmsProvider } = {},
): Channel {
  const clock = opts.clock ?? systemClock;
  switch (c.type) {
    case 'webhook':
      return new WebhookChannel({
        name: c.name,
        url: c.url,
        secret: c.secret,
        headers: c.headers,
        timeoutMs: c.timeoutMs,
        format,
        clock,
      });
    case 'dingtalk':
      return new DingTalkChannel({
        name: c.name,
        baseUrl: c.baseUrl,
        accessToken: c.accessToken,
        secret: c.secret,
        msgtype: c.msgtype,
        atAllSeverities: c.atAllSeverities,
        timeoutMs: c.timeoutMs,
        format,
        clock,
      });
    case 'wecom':
      return new WeComChannel({
        name: c.name,
        baseUrl: c.baseUrl,
        key: c.key,
        msgtype: c.msgtype,
        timeoutMs: c.timeoutMs,
        format,
      });
    case 'email':
      return new EmailChannel({
        name: c.name,
        from: c.from,
        fromName: c.fromName,
        to: c.to,
        format,
        clock,
        smtp: {
          host: c.host,
          port: c.port,
          secure: c.secure,
          starttls: c.starttls,
          user: c.user,
          password: c.password,
          allowInsecureAuth: c.allowInsecureAuth,
          heloName: c.heloName ?? hostname(),
          timeoutMs: c.timeoutMs,
          tls: { rejectUnauthorized: c.tlsRejectUnauthorized },
        },
      });
    case 'sms':
      return new SmsChannel({
        name: c.name,
        to: c.to,
        maxBytes: c.maxBytes,
        format,
        provider:
          opts.smsProvider ??
          new HttpJsonSmsProvider({ url: c.url, token: c.token, headers: c.headers, timeoutMs: c.timeoutMs }),
      });
  }
}

export function createChannels(
  config: NotifyConfig,
  opts: { clock?: Clock; smsProvider?: SmsProvider } = {},
): Channel[] {
  const format = formatOptions(config);
  return config.channels.map((c) => createChannel(c, format, opts));
}
