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
 * SQLite's own page cache per connection, in KiB. better-sqlite3 builds SQLite
 * with 16 MiB per connection (`SQLITE_DEFAULT_CACHE_SIZE=-16000`): a central
 * holds three or four connections, and each cache filled as its file grew, a
 * resident-memory climb that lasted as long as the files stayed under 16 MiB
 * (the soak's "growth after warm-up", see docs/benchmarks.md). The files are
 * in the operating system's cache anyway; a miss here costs a read() of it.
 */
export const DEFAULT_CACHE_KIB = 4096;

/**
 * Opens an SQLite file in WAL mode. `synchronous=FULL` (an fsync per commit)
 * is for stores that acknowledge on commit and must survive a power cut;
 * writers batch commits (group commit) to pay for it once per batch.
 */
export function openDatabase(
  path: string,
  opts: { synchronous?: 'NORMAL' | 'FULL'; cacheKiB?: number } = {},
): Db {
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
  db.pragma(`cache_size = -${Math.max(64, Math.round(opts.cacheKiB ?? DEFAULT_CACHE_KIB))}`);
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
