import type { EventRepo, IncomingEvent } from '../../storage/types.js';
import type { RecentIds } from './dedup.js';
import type { Step } from './types.js';

/**
 * Group commit: events arriving in the same turn of the event loop (up to
 * `maxBatch`) are written in one transaction, and each publisher is answered
 * only after that transaction is durable. The gateway's PUBACK waits on this.
 */
export class GroupCommitter {
  private pending: Array<{
    item: IncomingEvent;
    resolve: (isNew: boolean) => void;
    reject: (e: unknown) => void;
  }> = [];
  private scheduled = false;
  batches = 0;

  constructor(
    private readonly events: EventRepo,
    private readonly maxBatch = 512,
  ) {}

  write(item: IncomingEvent): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatch) void this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.batches++;
    try {
      const results = await this.events.insertBatch(batch.map((b) => b.item));
      for (const [i, b] of batch.entries()) b.resolve(results[i] === true);
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}

export function persistStep(committer: GroupCommitter, recent: RecentIds): Step {
  return {
    name: 'persist',
    async run(ctx) {
      const env = ctx.envelope!;
      const isNew = await committer.write({
        envelope: env,
        gatewayId: ctx.gateway.gatewayId,
        receivedAt: ctx.receivedAt,
      });
      recent.add(env.id);
      return isNew
        ? { status: 'accepted', envelope: env }
        : { status: 'duplicate', envelope: env, where: 'store' };
    },
  };
}
