import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, requireBuild } from '../../lib/testkit/procs.js';

describe('log redaction', () => {
  it('never writes a password, secret or token, however deep in a logged config', () => {
    requireBuild();
    const script = `
      const { logger } = await import(${JSON.stringify(join(ROOT, 'dist/lib/logger.js'))});
      const log = logger('test');
      log.info({ password: 'P0', config: { cameras: { devices: [{ deviceId: 'c', onvif: { host: 'h', password: 'P1' } }] } } }, 'a');
      log.info({ cameras: { devices: [{ onvif: { password: 'P2' } }] } }, 'b');
      log.info({ notify: { channels: { ding: { secret: 'P3', token: 'P4' } } } }, 'c');
      log.info({ devices: [{ password: 'P5' }], req: { headers: { authorization: 'Basic P6' } } }, 'd');
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, CAREWATCH_LOG_LEVEL: 'info', VITEST: '' },
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(r.stdout).not.toMatch(/P[0-6]/);
    expect(r.stdout.match(/\[redacted\]/g)?.length).toBe(7);
    expect(r.stdout).toContain('"host":"h"');
  });
});
