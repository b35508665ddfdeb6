import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { type FormatOptions, renderMessage } from './format.js';
import { postJson } from './http.js';
import type { Channel, Message } from './types.js';

/**
 * Generic signed webhook.
 *
 * Request: `POST <url>` with a JSON body (see `WebhookBody`) and the headers
 *
 *   Content-Type: application/json; charset=utf-8
 *   X-Carewatch-Delivery: <message id, stable across retries: use it to drop duplicates>
 *   X-Carewatch-Timestamp: <unix time in seconds when this attempt was signed>
 *   X-Carewatch-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>
 *
 * To verify: take the raw body bytes as received (before any JSON parsing),
 * compute the HMAC over `${X-Carewatch-Timestamp}.${body}` with the shared
 * secret, compare with the header in constant time, and refuse timestamps
 * more than a few minutes away from your clock (replays). `verifyWebhookSignature`
 * below does exactly this. Any 2xx answer is success; 408, 429 and 5xx are
 * retried with backoff; other statuses are final failures.
 */
export interface WebhookOptions {
  name: string;
  url: string;
  /** Shared secret; without it the request is sent unsigned. */
  secret?: string | undefined;
  timeoutMs: number;
  headers?: Record<string, string> | undefined;
  format: FormatOptions;
  clock: Clock;
}

export interface WebhookBody {
  id: string;
  kind: Message['kind'];
  sentAt: string;
  title: string;
  text: string;
  link: string | null;
  notifications: Array<{
    dedupKey: string;
    change: string;
    level: number;
    levelName: string;
    alert: Message['notifications'][number]['alert'];
    /** Accident or hazard notices only: the accident or hazard itself (see safety.ts). */
    safety?: Message['notifications'][number]['safety'];
  }>;
}

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Receiver side: true when the signature matches and the timestamp is within `toleranceS` of `nowMs`. */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string,
  body: string,
  signature: string,
  nowMs: number,
  toleranceS = 300,
): boolean {
  const ts = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(nowMs / 1000 - ts) > toleranceS) return false;
  const want = Buffer.from(webhookSignature(secret, timestamp, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export class WebhookChannel implements Channel {
  readonly name: string;

  constructor(private readonly opts: WebhookOptions) {
    this.name = opts.name;
  }

  async send(m: Message): Promise<void> {
    const r = renderMessage(m, this.opts.format);
    const payload: WebhookBody = {
      id: m.id,
      kind: m.kind,
      sentAt: new Date(this.opts.clock.now()).toISOString(),
      title: r.title,
      text: r.text,
      link: r.link,
      notifications: m.notifications.map((n) => ({
        dedupKey: n.dedupKey,
        change: n.change,
        level: n.level,
        levelName: n.levelName,
        alert: n.alert,
        ...(n.safety ? { safety: n.safety } : {}),
      })),
    };
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(this.opts.clock.now() / 1000));
    const headers: Record<string, string> = {
      ...this.opts.headers,
      'x-carewatch-delivery': m.id,
      'x-carewatch-timestamp': timestamp,
    };
    if (this.opts.secret)
      headers['x-carewatch-signature'] = webhookSignature(this.opts.secret, timestamp, body);
    await postJson(this.opts.url, body, { headers, timeoutMs: this.opts.timeoutMs });
  }
}
