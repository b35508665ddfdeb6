import type { Clock } from '../../../lib/clock.js';

export type LinkState = 'unknown' | 'online' | 'offline';

/**
 * Link supervision per account: every authenticated message (alarm or
 * `NULL`) restarts the account's timer; when it runs out the account is
 * reported `offline`, and the next message reports it `online` again.
 * Accounts start `unknown` and are reported offline if they never call.
 */
export class Supervisor {
  private readonly timers = new Map<string, { cancel(): void }>();
  private readonly state = new Map<string, LinkState>();
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly report: (account: string, state: 'offline' | 'online') => void,
  ) {}

  watch(account: string): void {
    if (!this.state.has(account)) this.state.set(account, 'unknown');
    this.arm(account);
  }

  seen(account: string): void {
    if (this.stopped) return;
    const was = this.state.get(account);
    this.state.set(account, 'online');
    if (was === 'offline') this.report(account, 'online');
    this.arm(account);
  }

  states(): Record<string, LinkState> {
    return Object.fromEntries(this.state);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  private arm(account: string): void {
    this.timers.get(account)?.cancel();
    this.timers.set(
      account,
      this.clock.setTimeout(() => {
        if (this.stopped) return;
        this.timers.delete(account);
        if (this.state.get(account) !== 'offline') {
          this.state.set(account, 'offline');
          this.report(account, 'offline');
        }
      }, this.timeoutMs),
    );
  }
}
