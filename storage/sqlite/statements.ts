import type Database from 'better-sqlite3';
import type { Db } from './open.js';

const MAX_PER_DB = 512;
const caches = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * The prepared statement for `sql` on `db`, compiled once and reused
 * (preparing on every call was a tenth of the central's CPU under load).
 * Statements are never left iterating here, so sharing one is safe. A
 * database that sees more than 512 distinct texts (queries built from
 * filters) starts a fresh cache rather than grow without bound.
 */
export function stmt(db: Db, sql: string): Database.Statement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let s = cache.get(sql);
  if (!s) {
    if (cache.size >= MAX_PER_DB) cache.clear();
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s;
}
