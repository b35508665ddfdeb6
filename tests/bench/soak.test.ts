/**
 * `npm run soak` end to end, in a few seconds: a central and one gateway as
 * real processes, the load, probes and REST reads, then the verdict and the
 * sample files.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, requireBuild, tempDir } from '../../lib/testkit/procs.js';

describe('soak benchmark', () => {
  it('samples every process, times probes and finds every acknowledged event stored', async () => {
    requireBuild();
    const dir = tempDir('cw-soak-test-');
    try {
      const out = join(dir.path, 'samples');
      const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'soak.js')], {
        cwd: ROOT,
        env: {
          ...process.env,
          VITEST: '',
          SOAK_MINUTES: '0.25',
          SOAK_SITES: '2',
          SOAK_RATE: '20',
          SOAK_SAMPLE_S: '5',
          SOAK_PROBE_MS: '300',
          SOAK_REST_MS: '1000',
          SOAK_FLOOR_N: '30',
          SOAK_DRAIN_S: '30',
          SOAK_OUT: out,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code, text).toBe(0);
      expect(text).toMatch(/baseline, bare aedes QoS 1 hop: before p50 [\d.]+ ms/);
      expect(text).toMatch(/nothing lost: yes/);

      const json = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as {
        rows: Array<{ procs: Record<string, { rssBytes: number; heapUsedBytes: number; fds: number }> }>;
        sent: { emergency_call: number; attendance: number; panel_alarm: number };
        stored: { emergency_call: number; attendance: number; panel_alarm: number };
        lost: number;
      };
      expect(json.rows.length).toBeGreaterThanOrEqual(3);
      for (const r of json.rows)
        for (const name of ['central', 'gw1', 'gw2']) {
          expect(r.procs[name]!.rssBytes).toBeGreaterThan(0);
          expect(r.procs[name]!.heapUsedBytes).toBeGreaterThan(0);
          expect(r.procs[name]!.fds).toBeGreaterThan(0);
        }
      expect(json.sent.emergency_call).toBeGreaterThan(0);
      expect(json.sent.attendance).toBeGreaterThan(0);
      expect(json.sent.panel_alarm).toBeGreaterThan(0);
      expect(json.stored).toEqual({
        emergency_call: json.sent.emergency_call,
        attendance: json.sent.attendance,
        panel_alarm: json.sent.panel_alarm,
      });
      expect(json.lost).toBe(0);
      const csv = readFileSync(`${out}.csv`, 'utf8').trim().split('\n');
      expect(csv[0]).toContain('central_rss_bytes');
      expect(csv.length).toBe(json.rows.length + 1);
    } finally {
      dir.cleanup();
    }
  }, 180_000);
});
