/** `diskSpaceNow`: the recordings volume's free and total bytes as the inventory reports them. */
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diskSpaceNow } from '../../../gateway/retention/types.js';
import { tempDir } from '../../../lib/testkit/procs.js';

const dir = tempDir('cw-disk-');
afterAll(() => dir.cleanup());

describe('diskSpaceNow', () => {
  it('reads free (available to the gateway) and total bytes of the volume holding the directory', () => {
    const d = diskSpaceNow(dir.path);
    const s = statfsSync(dir.path);
    expect(d).toBeDefined();
    expect(d!.totalBytes).toBe(s.blocks * s.bsize);
    expect(Number.isSafeInteger(d!.freeBytes)).toBe(true);
    expect(d!.freeBytes).toBeGreaterThanOrEqual(0);
    expect(d!.freeBytes).toBeLessThanOrEqual(d!.totalBytes);
    // free space moves with other writers; it stays near what statfs says
    expect(Math.abs(d!.freeBytes - s.bavail * s.bsize)).toBeLessThan(d!.totalBytes / 10);
  });

  it('is undefined for a directory that cannot be read', () => {
    expect(diskSpaceNow(join(dir.path, 'missing', 'recordings'))).toBeUndefined();
  });
});
