import { type FormatOptions, renderMessage, truncateBytes } from './format.js';
import { checkErrcode, postJson, safeUrl } from './http.js';
import type { Channel, Message } from './types.js';

/**
 * WeCom (企业微信) group robot.
 *
 * `POST {baseUrl}/cgi-bin/webhook/send?key=<key>` with
 * `{"msgtype":"markdown","markdown":{"content":…}}` (at most 4096 bytes) or
 * `{"msgtype":"text","text":{"content":…,"mentioned_mobile_list":[…]}}`
 * (2048 bytes). The reply is `{"errcode":0,"errmsg":"ok"}`; other errcodes are
 * failures (45009 "api freq out of limit" and -1 "system busy" are retried).
 */
export interface WeComOptions {
  name: string;
  /** Default `https://qyapi.weixin.qq.com`. */
  baseUrl: string;
  key: string;
  msgtype: 'markdown' | 'text';
  timeoutMs: number;
  format: FormatOptions;
}

const RETRYABLE = new Set([-1, 45009]);

export class WeComChannel implements Channel {
  readonly name: string;

  constructor(private readonly opts: WeComOptions) {
    this.name = opts.name;
  }

  async send(m: Message): Promise<void> {
    const r = renderMessage(m, this.opts.format);
    const base = this.opts.baseUrl.replace(/\/+$/, '');
    const url = `${base}/cgi-bin/webhook/send?key=${encodeURIComponent(this.opts.key)}`;
    const body =
      this.opts.msgtype === 'markdown'
        ? { msgtype: 'markdown', markdown: { content: truncateBytes(r.markdown, 4096) } }
        : {
            msgtype: 'text',
            text: {
              content: truncateBytes(r.text, 2048),
              ...(m.recipients.length > 0 ? { mentioned_mobile_list: m.recipients } : {}),
            },
          };
    const reply = await postJson(url, JSON.stringify(body), { timeoutMs: this.opts.timeoutMs });
    checkErrcode(reply, `WeCom ${safeUrl(base)}`, RETRYABLE);
  }
}
