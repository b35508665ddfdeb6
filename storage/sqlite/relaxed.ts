import type Database from 'better-sqlite3';
import type { Db } from './open.js';

/** SQLite's `PRAGMA synchronous` values: OFF 0, NORMAL 1, FULL 2, EXTRA 3. */
const NORMAL = 1;

interface Levels {
  own: number;
  relax: Database.Statement;
  restore: Database.Statement;
}
const levels = new WeakMap<Db, Levels>();

function levelsOf(db: Db): Levels {
  let l = levels.get(db);
  if (!l) {
    const own = db.pragma('synchronous', { simple: true }) as number;
    l = {
      own,
      relax: db.prepare('PRAGMA synchronous = NORMAL'),
      restore: db.prepare(`PRAGMA synchronous = ${own}`),
    };
    levels.set(db, l);
  }
  return l;
}

/**
 * Runs `fn` in one transaction whose commit skips its own fsync
 * (`synchronous=NORMAL` for that commit, the connection's level again after).
 *
 * Only for rows that are rebuilt from something durable after a power cut:
 * the gateway's recording index rows (rebuilt from the segment files by the
 * recovery pass and the sweeper's reconciliation). In WAL mode such a commit
 * still survives the process being killed; an OS crash or power cut can lose
 * the last of them, never corrupt the file, and the next durable commit on the
 * connection syncs them with its own.
 */
export function relaxedTransaction<T>(db: Db, fn: () => T): T {
  // inside a transaction its commit decides (SQLite refuses to change the level there, even to prepare it)
  if (db.inTransaction) return db.transaction(fn)();
  const l = levelsOf(db);
  if (l.own <= NORMAL) return db.transaction(fn)();
  l.relax.run();
  try {
    return db.transaction(fn)();
  } finally {
    l.restore.run();
  }
}
