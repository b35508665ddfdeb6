import { afterEach, beforeEach, describe } from 'vitest';
import { alertContract } from './contract/alerts.js';
import { eventContract } from './contract/events.js';
import type { OpenHarness, StoreHarness } from './contract/fixtures.js';
import { registryContract } from './contract/registry.js';

export type { OpenHarness, StoreHarness } from './contract/fixtures.js';

/**
 * The repository contract of the central store (storage/types.ts), run
 * against every implementation with a fresh, empty store per test. `skip`
 * names why the store cannot be tested here; the suite then shows as skipped
 * with that reason.
 */
export function centralStoreContract(name: string, open: OpenHarness, skip: string | null = null): void {
  describe.skipIf(skip !== null)(
    `central store contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`,
    () => {
      let h: StoreHarness | undefined;
      beforeEach(async () => {
        h = await open();
      });
      afterEach(async () => {
        await h?.close();
        h = undefined;
      });
      const current = () => {
        if (!h) throw new Error('no store open');
        return h;
      };
      eventContract(current);
      alertContract(current);
      registryContract(current);
    },
  );
}
