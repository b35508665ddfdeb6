import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../../lib/testkit/procs.js';
import { openSqliteCentralStore } from '../../storage/sqlite/central-store.js';
import { centralStoreContract } from './central-store.contract.js';

centralStoreContract('SQLite', async () => {
  const dir = tempDir('cw-store-');
  const path = join(dir.path, 'central.db');
  const store = openSqliteCentralStore(path);
  return {
    store,
    async exec(sql) {
      const db = new Database(path);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    async close() {
      await store.close();
      dir.cleanup();
    },
  };
});
