import { createHmac } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { type FormatOptions, renderMessage, truncateBytes } from './format.js';
import { checkErrcode, postJson, safeUrl } from './http.js';
import type { Channel, Message } from './types.js';

/**
 * DingTalk custom group robot (自定义机器人).
 *
 * `POST {baseUrl}/robot/send?access_token=<token>` with
 * `{"msgtype":"markdown","markdown":{"title":…,"text":…},"at":{…}}` or
 * `{"msgtype":"text","text":{"content":…},"at":{…}}`. In signed mode (加签)
 * the URL also carries `&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(secret,
 * timestamp + "\n" + secret)))>`. The reply is `{"errcode":0,"errmsg":"ok"}`;
 * any other errcode is a failure (throttling and "system busy" are retried).
 */
export interface DingTalkOptions {
  name: string;
  /** Default `https://oapi.dingtalk.com`. */
  baseUrl: string;
  accessToken: string;
  /** The `SEC…` secret of the signed mode; unsigned when absent. */
  secret?: string | undefined;
  msgtype: 'markdown' | 'text';
  /** @ everybody in the group for these severities (e.g. critical). */
  atAllSeverities?: string[] | undefined;
  timeoutMs: number;
  format: FormatOptions;
  clock: Clock;
}

/** -1: system busy; 130101: sending too fast (20 messages a minute per robot). */
const RETRYABLE = new Set([-1, 130101]);
/** A DingTalk message may carry at most 20,000 bytes. */
const MAX_BYTES = 18_000;

export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export class DingTalkChannel implements Channel {
  readonly name: string;

  constructor(private readonly opts: DingTalkOptions) {
    this.name = opts.name;
  }

  private url(): string {
    const base = this.opts.baseUrl.replace(/\/+$/, '');
    let url = `${base}/robot/send?access_token=${encodeURIComponent(this.opts.accessToken)}`;
    if (this.opts.secret) {
      const ts = this.opts.clock.now();
      url += `&timestamp=${ts}&sign=${encodeURIComponent(dingtalkSign(this.opts.secret, ts))}`;
    }
    return url;
  }

  async send(m: Message): Promise<void> {
    const r = renderMessage(m, this.opts.format);
    const atMobiles = m.recipients;
    const atAll = m.notifications.some((n) => this.opts.atAllSeverities?.includes(n.alert.severity));
    // Mentions only work when the mobile numbers also appear in the text.
    const mention = atMobiles.length > 0 ? `\n\n${atMobiles.map((p) => `@${p}`).join(' ')}` : '';
    const body =
      this.opts.msgtype === 'markdown'
        ? {
            msgtype: 'markdown',
            markdown: { title: r.title, text: truncateBytes(r.markdown, MAX_BYTES) + mention },
          }
        : { msgtype: 'text', text: { content: truncateBytes(r.text, MAX_BYTES) + mention } };
    const reply = await postJson(this.url(), JSON.stringify({ ...body, at: { atMobiles, isAtAll: atAll } }), {
      timeoutMs: this.opts.timeoutMs,
    });
    checkErrcode(reply, `DingTalk ${safeUrl(this.opts.baseUrl)}`, RETRYABLE);
  }
}
