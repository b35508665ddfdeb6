import { describe, expect, it } from 'vitest';
import { BENCHES, pick } from '../../bench/all.js';

describe('npm run bench: choosing benchmarks', () => {
  it('runs every benchmark by default, each with a time bound', () => {
    const names = pick(BENCHES, undefined, undefined).map((b) => b.name);
    expect(names).toEqual([
      'latency',
      'backlog',
      'panels',
      'alerts',
      'ingest',
      'store',
      'recording',
      'soak',
      'fuzz',
    ]);
    for (const b of BENCHES) expect(b.boundS).toBeGreaterThan(0);
  });

  it('BENCH_ONLY and BENCH_SKIP pick and leave out, in the listed order', () => {
    expect(pick(BENCHES, 'fuzz, latency', undefined).map((b) => b.name)).toEqual(['latency', 'fuzz']);
    expect(pick(BENCHES, undefined, 'recording,soak').map((b) => b.name)).not.toContain('soak');
  });

  it('refuses a name it does not know, naming it and the known ones', () => {
    expect(() => pick(BENCHES, 'latncy', undefined)).toThrow(/unknown benchmark latncy .*known: latency/);
  });
});
