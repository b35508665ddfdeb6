import { type FormatOptions, renderMessage, truncateBytes } from './format.js';
import { postJson } from './http.js';
import { type Channel, type Message, NotifyError } from './types.js';

/** Adapter to one SMS gateway (Aliyun, Tencent Cloud, an operator's HTTP API…). */
export interface SmsProvider {
  /** Resolves when the provider accepted the text for this phone; throws `NotifyError` otherwise. */
  send(phone: string, text: string): Promise<void>;
}

export interface HttpSmsOptions {
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
  headers?: Record<string, string> | undefined;
  timeoutMs: number;
}

/**
 * A generic HTTP JSON provider: `POST <url>` with `{"to": phone, "text": text}`.
 * Any 2xx is success unless the JSON reply says `{"ok": false}` or carries a
 * non-zero numeric `code`; 408/429/5xx and network failures are retried.
 */
export class HttpJsonSmsProvider implements SmsProvider {
  constructor(private readonly opts: HttpSmsOptions) {}

  async send(phone: string, text: string): Promise<void> {
    const headers: Record<string, string> = { ...this.opts.headers };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const reply = await postJson(this.opts.url, JSON.stringify({ to: phone, text }), {
      headers,
      timeoutMs: this.opts.timeoutMs,
    });
    const j = reply.json as { ok?: unknown; code?: unknown; message?: unknown } | undefined;
    if (j && typeof j === 'object' && (j.ok === false || (typeof j.code === 'number' && j.code !== 0))) {
      throw new NotifyError(
        'NOTIFY_REJECTED',
        `SMS provider refused: ${String(j.code ?? '')} ${String(j.message ?? '')}`.trim(),
        false,
      );
    }
  }
}

export interface SmsOptions {
  name: string;
  provider: SmsProvider;
  /** Phones when the route names none. */
  to: string[];
  /** Longest text sent (bytes); long texts are cut. */
  maxBytes: number;
  format: FormatOptions;
}

/** SMS: the short rendering to every phone; a retry skips phones already served. */
export class SmsChannel implements Channel {
  readonly name: string;

  constructor(private readonly opts: SmsOptions) {
    this.name = opts.name;
  }

  async send(m: Message): Promise<void> {
    const phones = m.recipients.length > 0 ? m.recipients : this.opts.to;
    if (phones.length === 0) {
      throw new NotifyError('NOTIFY_NO_RECIPIENTS', `channel ${this.name}: no phone numbers`, false);
    }
    const text = truncateBytes(renderMessage(m, this.opts.format).short, this.opts.maxBytes);
    const todo = phones.filter((p) => !m.done.has(p));
    const results = await Promise.allSettled(todo.map((p) => this.opts.provider.send(p, text)));
    const failures: unknown[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') m.done.add(todo[i]!);
      else failures.push(r.reason);
    });
    if (failures.length > 0) {
      const retryable = failures.some((e) => !(e instanceof NotifyError) || e.retryable);
      const first = failures[0];
      throw new NotifyError(
        first instanceof NotifyError ? (first.code as 'NOTIFY_REJECTED') : 'NOTIFY_NETWORK',
        `SMS to ${failures.length} of ${todo.length} phone(s) failed: ${first instanceof Error ? first.message : String(first)}`,
        retryable,
      );
    }
  }
}
