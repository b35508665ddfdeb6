import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../lib/testkit/procs.js';
import { DEFAULT_CACHE_KIB, openDatabase } from '../../../storage/sqlite/open.js';

describe('openDatabase', () => {
  it('opens in WAL mode with the asked durability and a bounded page cache (not better-sqlite3’s 16 MiB)', () => {
    const dir = tempDir('cw-open-');
    try {
      const db = openDatabase(join(dir.path, 'a.db'));
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('cache_size', { simple: true })).toBe(-DEFAULT_CACHE_KIB);
      db.close();
      const small = openDatabase(join(dir.path, 'b.db'), { synchronous: 'NORMAL', cacheKiB: 512 });
      expect(small.pragma('synchronous', { simple: true })).toBe(1);
      expect(small.pragma('cache_size', { simple: true })).toBe(-512);
      small.close();
    } finally {
      dir.cleanup();
    }
  });
});
