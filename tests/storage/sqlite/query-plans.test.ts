import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../lib/testkit/procs.js';
import { openSqliteCentralStore } from '../../../storage/sqlite/central-store.js';

/**
 * The newest events and alerts across every site are read through an index,
 * not by sorting the table: the texts below are the repositories' list
 * queries without filters (storage/sqlite/events.ts, alerts.ts).
 */
describe('SQLite central store query plans', () => {
  it('lists the newest events and alerts of every site from an index', async () => {
    const dir = tempDir('cw-plans-');
    const path = join(dir.path, 'central.db');
    const store = openSqliteCentralStore(path);
    const db = new Database(path, { readonly: true });
    try {
      const plan = (sql: string) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>)
          .map((r) => r.detail)
          .join('; ');
      const events = plan('SELECT * FROM events ORDER BY received_at DESC, rowid DESC LIMIT 100');
      expect(events).toMatch(/USING INDEX events_received/);
      expect(events).not.toMatch(/TEMP B-TREE/);
      const alerts = plan('SELECT * FROM alerts ORDER BY opened_at DESC LIMIT 100');
      expect(alerts).toMatch(/USING INDEX alerts_opened/);
      expect(alerts).not.toMatch(/TEMP B-TREE/);
    } finally {
      db.close();
      await store.close();
      dir.cleanup();
    }
  });
});
