import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CarewatchError } from '../../lib/errors.js';

export type Db = Database.Database;

export interface Migration {
  version: number;
  sql: string;
}

/**
 * Opens an SQLite file in WAL mode. `synchronous=FULL` (an fsync per commit)
 * is for stores that acknowledge on commit and must survive a power cut;
 * writers batch commits (group commit) to pay for it once per batch.
 */
export function openDatabase(path: string, opts: { synchronous?: 'NORMAL' | 'FULL' } = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path);
  } catch (err) {
    throw new CarewatchError(
      'STORAGE_OPEN_FAILED',
      `cannot open database ${path}: ${(err as Error).message}`,
      {
        path,
      },
    );
  }
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Applies the migrations above the file's user_version, each in a transaction. */
export function migrate(db: Db, migrations: Migration[], table = 'schema_migrations'): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`);
  const applied = new Set(
    (db.prepare(`SELECT version FROM ${table}`).all() as Array<{ version: number }>).map((r) => r.version),
  );
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare(`INSERT INTO ${table} (version, applied_at) VALUES (?, ?)`).run(m.version, Date.now());
    })();
  }
}
