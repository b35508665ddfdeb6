import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBuild, until } from '../helpers/procs.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'blocked-stdout.mjs');

describe('runService shutdown', () => {
  it('a process whose stdout nobody reads still ends after SIGTERM (the logger flush at exit would block for ever)', async () => {
    requireBuild();
    const child = spawn(process.execPath, [FIXTURE], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CAREWATCH_LOG_LEVEL: 'info', KILL_MS: '3000' },
    });
    child.stdout.pause(); // never read: the pipe fills and stays full
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
      child.on('exit', (code, signal) => r({ code, signal })),
    );
    try {
      await until(async () => stderr.includes('ready'), 20_000, 50);
      child.kill('SIGTERM');
      const end = await Promise.race([
        exited,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000)),
      ]);
      // without the deadline the process stays blocked in a write to the full pipe
      expect(end, 'the process ended').toBeDefined();
      expect(end!.signal).toBe('SIGKILL');
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
