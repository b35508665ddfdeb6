import { logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import type { EventRepo } from '../../storage/types.js';
import type { GatewayIdentity } from '../acl.js';
import { dedupStep, RecentIds } from './dedup.js';
import { knownDeviceStep } from './known-device.js';
import { GroupCommitter, persistStep } from './persist.js';
import type { IngestContext, Outcome, Step } from './types.js';
import { validateStep } from './validate.js';

export type { Outcome } from './types.js';

const log = logger('ingest:pipeline');

/**
 * validate → known-device → dedup → persist. The caller acknowledges the
 * publisher once `handle` resolves: accepted and duplicate events are durable,
 * rejected ones are quarantined in the rejects table with their reason.
 */
export class IngestPipeline {
  private readonly steps: Step[];
  private readonly loggedOnce = new Set<string>();
  readonly committer: GroupCommitter;

  constructor(
    private readonly deps: {
      events: EventRepo;
      metrics: Metrics;
      devicesOf: (siteId: string) => Set<string> | undefined;
    },
  ) {
    const recent = new RecentIds();
    this.committer = new GroupCommitter(deps.events);
    this.steps = [
      validateStep,
      knownDeviceStep(deps.devicesOf),
      dedupStep(recent),
      persistStep(this.committer, recent),
    ];
  }

  async handle(
    topic: string,
    payload: Buffer,
    gateway: GatewayIdentity,
    receivedAt = Date.now(),
  ): Promise<Outcome> {
    const ctx: IngestContext = { topic, payload, gateway, receivedAt };
    let outcome: Outcome | undefined;
    for (const step of this.steps) {
      const r = step.run(ctx);
      // a synchronous step's answer is used as is: an await per step cost a turn of the microtask queue per event
      outcome = r instanceof Promise ? await r : r;
      if (outcome) break;
    }
    if (!outcome) throw new Error('ingest pipeline ended without an outcome');
    this.count(outcome, gateway);
    if (outcome.status === 'rejected') {
      await this.quarantine(gateway, topic, outcome.code, outcome.message, payload);
    }
    return outcome;
  }

  private count(o: Outcome, gw: GatewayIdentity): void {
    const m = this.deps.metrics;
    if (o.status === 'accepted') {
      m.counter('carewatch_ingest_events_total', 'events stored', ['kind']).inc({ kind: o.envelope.kind });
    } else if (o.status === 'duplicate') {
      m.counter('carewatch_ingest_duplicates_total', 'redelivered events dropped', ['where']).inc({
        where: o.where,
      });
    } else {
      m.counter('carewatch_ingest_rejected_total', 'payloads rejected', ['code']).inc({ code: o.code });
      // log each (gateway, code) once per process; the metric carries the rate
      const key = `${gw.gatewayId}:${o.code}`;
      if (!this.loggedOnce.has(key) && this.loggedOnce.size < 10_000) {
        this.loggedOnce.add(key);
        log.warn({ gateway: gw.gatewayId, code: o.code, reason: o.message }, 'payload rejected');
      }
    }
  }

  /** Keeps a rejected payload's head and reason, so nothing disappears without a trace. */
  async quarantine(
    gw: GatewayIdentity,
    topic: string,
    code: string,
    message: string,
    payload: Buffer,
  ): Promise<void> {
    await this.deps.events.recordReject({
      at: Date.now(),
      gatewayId: gw.gatewayId,
      topic,
      code,
      message,
      excerpt: payload.subarray(0, 512).toString('utf8'),
    });
  }
}
