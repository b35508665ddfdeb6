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

/**
 * Runs `work` (one transaction) with `synchronous=NORMAL`: in WAL mode the
 * commit is appended to the log without its own fsync and becomes durable with
 * the next fsync'd commit (the log is replayed as a valid prefix after a power
 * cut, so it can be lost only together with everything after it). For derived
 * state that is replayed from durable rows when lost: the processed marks of
 * events and the fire room's attendance, both rebuilt from unprocessed events at
 * start. A process crash loses nothing: the commit is in the OS's page cache.
 */
export function relaxedCommit<T>(db: Db, work: () => T): T {
  const was = db.pragma('synchronous', { simple: true }) as number;
  if (was < 2) return work(); // already NORMAL or OFF
  db.pragma('synchronous = NORMAL');
  try {
    return work();
  } finally {
    db.pragma(`synchronous = ${was}`);
  }
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
