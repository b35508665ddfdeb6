import { expect } from 'vitest';
import type { Tally } from '../../lib/testkit/faults.js';

/** Nothing lost, nothing duplicated, per-device order kept. */
export function expectExactlyOnce(t: Tally): void {
  expect(t.gaps, 'lost (missing seqs per device)').toEqual({});
  expect(t.duplicated, 'duplicated').toBe(0);
  expect(t.orderViolations, 'order violations').toBe(0);
  for (const [d, p] of Object.entries(t.perDevice)) {
    // every PUBACKed press is stored; at most the unacknowledged attempts come on top
    expect(p.stored, `${d} stored`).toBeGreaterThanOrEqual(p.sent);
    expect(p.stored, `${d} stored`).toBeLessThanOrEqual(p.sent + p.unacked);
  }
}
