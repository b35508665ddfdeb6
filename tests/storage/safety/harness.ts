import { afterEach, beforeEach, describe } from 'vitest';
import type { SafetyStore } from '../../../storage/safety-store.js';

/** One database under test; every `open()` is one more central instance on it. */
export interface SafetyHarness {
  open(): Promise<SafetyStore>;
  /** Runs SQL on the database that holds accidents and hazards, bypassing the repositories. */
  exec(sql: string): Promise<void>;
  /** Closes every store opened here and drops the database. */
  close(): Promise<void>;
}

export type OpenSafetyHarness = () => Promise<SafetyHarness>;

/** The running test's harness and its first store. */
export interface SafetyCurrent {
  h: SafetyHarness;
  store: SafetyStore;
}

export const T0 = 1_700_000_000_000;
export const MIN = 60_000;

/**
 * Registers one contract part with a fresh, empty database per test. `skip`
 * names why the engine cannot be tested here; the suite then shows as
 * skipped with that reason.
 */
export function withSafetyStore(
  title: string,
  open: OpenSafetyHarness,
  skip: string | null,
  body: (current: () => SafetyCurrent) => void,
): void {
  describe.skipIf(skip !== null)(`${title}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let cur: SafetyCurrent | undefined;
    beforeEach(async () => {
      const h = await open();
      cur = { h, store: await h.open() };
    });
    afterEach(async () => {
      await cur?.h.close();
      cur = undefined;
    });
    body(() => {
      if (!cur) throw new Error('no store open');
      return cur;
    });
  });
}

/** Settles the timers' store calls: polls `done` (bounded), then waits a little for stragglers. */
export async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 100));
}
