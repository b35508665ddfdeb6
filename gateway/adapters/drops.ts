import type { Logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';

/**
 * What an adapter does with a device message it cannot use: count it by
 * code and log it once per (topic, code), so a chatty broken device neither
 * floods the log nor goes unnoticed.
 */
export class Drops {
  private readonly loggedOnce = new Set<string>();

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  drop(code: string, topic: string, message: string): void {
    this.metrics
      .counter('carewatch_gateway_local_rejected_total', 'local bus messages dropped', ['code'])
      .inc({ code });
    const key = `${topic}:${code}`;
    if (!this.loggedOnce.has(key) && this.loggedOnce.size < 10_000) {
      this.loggedOnce.add(key);
      this.log.warn({ topic, code }, message);
    }
  }
}
