import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../../storage/sqlite/open.js';
import { relaxedTransaction } from '../../../storage/sqlite/relaxed.js';

describe('relaxedTransaction', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });
  const open = (sync: 'FULL' | 'NORMAL' = 'FULL'): Db => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-relaxed-'));
    const db = openDatabase(join(dir, 'x.db'), { synchronous: sync });
    db.exec('CREATE TABLE t (v INTEGER NOT NULL CHECK (v >= 0))');
    cleanup.push(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return db;
  };
  const level = (db: Db) => db.pragma('synchronous', { simple: true });
  const values = (db: Db) =>
    (db.prepare('SELECT v FROM t ORDER BY v').all() as Array<{ v: number }>).map((r) => r.v);

  it('commits all of its writes and leaves the connection at its own level', () => {
    const db = open('FULL');
    expect(relaxedTransaction(db, () => db.prepare('INSERT INTO t VALUES (?), (?)').run(1, 2).changes)).toBe(
      2,
    );
    expect(values(db)).toEqual([1, 2]);
    expect(level(db)).toBe(2);
  });

  it('rolls back everything when the work throws, and still restores the level', () => {
    const db = open('FULL');
    expect(() =>
      relaxedTransaction(db, () => {
        db.prepare('INSERT INTO t VALUES (?)').run(3);
        db.prepare('INSERT INTO t VALUES (?)').run(-1); // breaks the CHECK
      }),
    ).toThrow(/CHECK/);
    expect(values(db)).toEqual([]);
    expect(level(db)).toBe(2);
  });

  it('inside an open transaction it joins it (nothing to relax) and on a NORMAL connection changes nothing', () => {
    const db = open('FULL');
    db.transaction(() => {
      relaxedTransaction(db, () => db.prepare('INSERT INTO t VALUES (?)').run(4));
      expect(level(db)).toBe(2);
    })();
    expect(values(db)).toEqual([4]);
    const n = open('NORMAL');
    relaxedTransaction(n, () => n.prepare('INSERT INTO t VALUES (?)').run(5));
    expect(values(n)).toEqual([5]);
    expect(level(n)).toBe(1);
  });
});
