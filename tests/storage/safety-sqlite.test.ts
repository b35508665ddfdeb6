import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../../lib/testkit/procs.js';
import type { SafetyStore } from '../../storage/safety-store.js';
import { openSqliteSafetyStore } from '../../storage/sqlite/safety-store.js';
import { safetyStoreContract } from './safety-store.contract.js';

safetyStoreContract('SQLite', async () => {
  const dir = tempDir('cw-safety-');
  const stores: SafetyStore[] = [];
  return {
    async open() {
      const s = openSqliteSafetyStore(dir.path);
      stores.push(s);
      return s;
    },
    async exec(sql) {
      const db = new Database(join(dir.path, 'central.db'));
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    async close() {
      for (const s of stores) await s.close();
      dir.cleanup();
    },
  };
});
