import type { Clock } from '../../../lib/clock.js';

/**
 * Post checks (查岗) in flight. The centre sends a control frame with a
 * type-91 object; the device confirms it (command 3) or denies it (command
 * 6); the operator on duty answers by pressing the post-check key, which the
 * device uploads as a type-24 operation with bit 5 (查岗应答). The check
 * resolves on that answer, on a deny, or when the timeout expires.
 */

export type PostCheckOutcome = 'answered' | 'missed' | 'denied' | 'offline' | 'cancelled';

export interface PostCheckResult {
  outcome: PostCheckOutcome;
  device: number;
  /** Serial number of the control frame (absent when it was never sent). */
  serial?: number;
  sentAt?: number;
  /** The device confirmed receipt of the command. */
  confirmed: boolean;
  /** Operator number from the answer. */
  operator?: number;
  answeredAt?: number;
  latencyMs?: number;
}

interface Pending {
  device: number;
  serial: number;
  sentAt: number;
  confirmed: boolean;
  timer: { cancel(): void };
  resolve: (r: PostCheckResult) => void;
}

export class PostCheckRegistry {
  private readonly pending = new Set<Pending>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.pending.size;
  }

  open(device: number, serial: number, timeoutMs: number): Promise<PostCheckResult> {
    return new Promise((resolve) => {
      const sentAt = this.clock.now();
      const p: Pending = {
        device,
        serial,
        sentAt,
        confirmed: false,
        resolve,
        timer: this.clock.setTimeout(() => this.finish(p, { outcome: 'missed' }), timeoutMs),
      };
      this.pending.add(p);
    });
  }

  /** The device confirmed the control frame `serial`. True when it matched a check. */
  confirmed(device: number, serial: number): boolean {
    for (const p of this.pending) {
      if (p.device === device && p.serial === serial) {
        p.confirmed = true;
        return true;
      }
    }
    return false;
  }

  denied(device: number, serial: number): boolean {
    for (const p of this.pending) {
      if (p.device === device && p.serial === serial) {
        this.finish(p, { outcome: 'denied' });
        return true;
      }
    }
    return false;
  }

  /** The operator answered: resolves every open check of the device. Returns how many. */
  answered(device: number, operator: number | undefined): number {
    let n = 0;
    const now = this.clock.now();
    for (const p of [...this.pending]) {
      if (p.device !== device) continue;
      n++;
      this.finish(p, {
        outcome: 'answered',
        answeredAt: now,
        latencyMs: now - p.sentAt,
        ...(operator !== undefined ? { operator } : {}),
      });
    }
    return n;
  }

  cancelAll(): void {
    for (const p of [...this.pending]) this.finish(p, { outcome: 'cancelled' });
  }

  private finish(
    p: Pending,
    r: Pick<PostCheckResult, 'outcome' | 'operator' | 'answeredAt' | 'latencyMs'>,
  ): void {
    if (!this.pending.delete(p)) return;
    p.timer.cancel();
    p.resolve({ device: p.device, serial: p.serial, sentAt: p.sentAt, confirmed: p.confirmed, ...r });
  }
}
