import type { Step } from './types.js';

/**
 * Fast path for redeliveries: ids seen recently are answered from memory.
 * The store's primary key is the authority (see persist); this bounded set
 * only saves a write for the common case of a resend after a lost PUBACK.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 100_000) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }
}

export function dedupStep(recent: RecentIds): Step {
  return {
    name: 'dedup',
    run(ctx) {
      const env = ctx.envelope!;
      return recent.has(env.id) ? { status: 'duplicate', envelope: env, where: 'memory' } : undefined;
    },
  };
}
