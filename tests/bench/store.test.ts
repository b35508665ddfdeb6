import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { requireBuild } from '../helpers/procs.js';

describe('bench:store at a tiny size', () => {
  it('times the three store calls of an attendance event against the plain insert', () => {
    requireBuild();
    const r = spawnSync(process.execPath, ['dist/bench/store.js'], {
      env: { ...process.env, STORE_EVENTS: '600', STORE_BATCH: '100', STORE_ROUNDS: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const row = (label: string) => {
      const m = new RegExp(`^\\| ${label} \\| ([\\d.]+) µs \\| ([\\d.]+) \\|$`, 'm').exec(r.stdout);
      expect(m, `${label} in\n${r.stdout}`).not.toBeNull();
      return { us: Number(m![1]), ratio: Number(m![2]) };
    };
    const parts = ['events.insertBatch', 'fireRoom.recordAttendanceMany', 'events.markProcessedMany'].map(
      row,
    );
    const all = row('all three');
    const plain = row('baseline: body into an unindexed table');
    for (const p of [...parts, plain]) expect(p.us).toBeGreaterThan(0);
    expect(plain.ratio).toBe(1);
    // the sum of the parts, to the printed rounding
    expect(Math.abs(all.us - parts.reduce((s, p) => s + p.us, 0))).toBeLessThan(0.05);
  });
});
