import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, relaxedCommit } from '../../../storage/sqlite/open.js';
import { tempDir } from '../../helpers/procs.js';

describe('relaxedCommit', () => {
  const dirs: Array<{ cleanup: () => void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });
  const open = (synchronous: 'FULL' | 'NORMAL') => {
    const d = tempDir('cw-relaxed-');
    dirs.push(d);
    const db = openDatabase(`${d.path}/x.db`, { synchronous });
    db.exec('CREATE TABLE t (v INTEGER)');
    return db;
  };
  const level = (db: ReturnType<typeof open>) => db.pragma('synchronous', { simple: true });

  it('commits with NORMAL and puts FULL back, also when the work throws', () => {
    const db = open('FULL');
    expect(level(db)).toBe(2);
    const seen = relaxedCommit(db, () => {
      db.prepare('INSERT INTO t VALUES (1)').run();
      return level(db);
    });
    expect(seen).toBe(1);
    expect(level(db)).toBe(2);
    expect(() =>
      relaxedCommit(db, () =>
        db.transaction(() => {
          db.prepare('INSERT INTO t VALUES (2)').run();
          throw new Error('boom');
        })(),
      ),
    ).toThrow('boom');
    expect(level(db)).toBe(2);
    // the failed transaction left nothing; the relaxed commit is there
    expect(db.prepare('SELECT v FROM t').all()).toEqual([{ v: 1 }]);
    db.close();
  });

  it('leaves a connection that is already NORMAL as it is', () => {
    const db = open('NORMAL');
    expect(relaxedCommit(db, () => level(db))).toBe(1);
    expect(level(db)).toBe(1);
    db.close();
  });
});
