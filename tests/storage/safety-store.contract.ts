import { accidentContract } from './safety/accidents.js';
import { type OpenSafetyHarness, withSafetyStore } from './safety/harness.js';
import { hazardContract } from './safety/hazards.js';
import { notifyLogContract } from './safety/notify-log.js';

export type { OpenSafetyHarness, SafetyHarness } from './safety/harness.js';

/**
 * The contract of the accident register, the hazard ledger and the
 * notification log (storage/safety-store.ts), run against every engine with a
 * fresh database per test. Race tests open a second store on the same
 * database: a second central instance.
 */
export function safetyStoreContract(name: string, open: OpenSafetyHarness, skip: string | null = null): void {
  withSafetyStore(`safety store contract: ${name}`, open, skip, (current) => {
    accidentContract(current);
    hazardContract(current);
    notifyLogContract(current);
  });
}
