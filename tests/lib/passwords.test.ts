import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { provisionGateway } from '../../cli/provision.js';
import { GENERATED_MIN_CHARS, hashPassword, randomSecret, verifyPassword } from '../../lib/passwords.js';
import { tempDir } from '../../lib/testkit/procs.js';
import { openCentralStore } from '../../storage/open-store.js';

const costOf = (hash: string) => Number(hash.split('$')[1]);

describe('password hashes', () => {
  const dir = tempDir('cw-passwords-');
  afterAll(() => dir.cleanup());

  it('gives a chosen password the full work factor and a generated secret the light one; both verify', async () => {
    const chosen = await hashPassword('correct horse battery');
    expect(costOf(chosen)).toBe(1 << 15);
    expect(await verifyPassword('correct horse battery', chosen)).toBe(true);
    expect(await verifyPassword('correct horse batterY', chosen)).toBe(false);
    const secret = randomSecret(18);
    expect(secret).toHaveLength(GENERATED_MIN_CHARS);
    const generated = await hashPassword(secret, 'generated');
    expect(costOf(generated)).toBe(1 << 10);
    expect(await verifyPassword(secret, generated)).toBe(true);
    expect(await verifyPassword(randomSecret(18), generated)).toBe(false);
  });

  it('refuses to hash a secret too short to be generated with the light work factor', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: GENERATED_MIN_CHARS - 1 }), async (s) => {
        await expect(hashPassword(s, 'generated')).rejects.toThrow(/at least 24 characters/);
      }),
      { numRuns: 50 },
    );
  });

  it('provision stores the light hash only for the secret it generated', async () => {
    const dataDir = join(dir.path, 'central');
    const made = await provisionGateway({ dataDir, siteId: 's1', gatewayId: 'gw-made' });
    const given = await provisionGateway({
      dataDir,
      siteId: 's1',
      gatewayId: 'gw-given',
      password: 'a-password-someone-chose',
    });
    const store = await openCentralStore({ dataDir });
    try {
      const a = await store.registry.gateway('gw-made');
      const b = await store.registry.gateway('gw-given');
      expect(costOf(a!.secretHash)).toBe(1 << 10);
      expect(costOf(b!.secretHash)).toBe(1 << 15);
      expect(await verifyPassword(made.password, a!.secretHash)).toBe(true);
      expect(await verifyPassword(given.password, b!.secretHash)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
