import { type NotifyConfig, parseNotifyConfig } from '../../../../alerts/notify/config.js';
import type { Channel, Message } from '../../../../alerts/notify/types.js';
import type { Clock } from '../../../../lib/clock.js';

/** A channel that records what it was given; `fail` may throw for an attempt. */
export class RecordingChannel implements Channel {
  readonly sent: Array<{ at: number; message: Message }> = [];
  readonly attempts: Array<{ at: number; message: Message }> = [];

  constructor(
    readonly name: string,
    private readonly clock: Clock,
    public fail: (m: Message, attempt: number) => Error | undefined = () => undefined,
  ) {}

  async send(message: Message): Promise<void> {
    this.attempts.push({ at: this.clock.now(), message });
    const n = this.attempts.filter((a) => a.message.id === message.id).length;
    const err = this.fail(message, n);
    if (err) throw err;
    this.sent.push({ at: this.clock.now(), message });
  }

  keys(): string[] {
    return this.sent.flatMap((s) => s.message.notifications.map((n) => n.dedupKey));
  }
}

/** A validated config with webhook channels of these names (the URLs are never used). */
export function configWith(names: string[], over: Record<string, unknown> = {}): NotifyConfig {
  return parseNotifyConfig({
    channels: names.map((name) => ({
      type: 'webhook',
      name,
      url: 'http://127.0.0.1:9/unused',
      rateLimit: { capacity: 1000, perMinute: 60_000 },
    })),
    routes: [{ channels: names }],
    retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 10_000, jitter: 0 },
    grouping: { windowMs: 0 },
    ...over,
  });
}
