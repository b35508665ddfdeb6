/**
 * The stored retention policy: what the central pushed is written to the
 * gateway's database and applies at start over the configured value, and the
 * 30-day floor holds on every path (save, the table itself, load).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { effectiveSiteDays, RetentionPolicyStore } from '../../../gateway/retention/policy-store.js';
import { tempDir } from '../../../lib/testkit/procs.js';
import { type Db, openDatabase } from '../../../storage/sqlite/open.js';

const dirs: Array<{ cleanup: () => void }> = [];
const dbs: Db[] = [];

function open(path = ':memory:'): Db {
  const db = openDatabase(path);
  dbs.push(db);
  return db;
}

afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('RetentionPolicyStore', () => {
  it('holds nothing until the central sets a policy', () => {
    expect(new RetentionPolicyStore(open()).load()).toBeUndefined();
  });

  it('stores an accepted value and the last one wins', () => {
    const store = new RetentionPolicyStore(open());
    expect(store.save(45, 1_000)).toBe(45);
    expect(store.load()).toEqual({ siteDays: 45, setAt: 1_000 });
    expect(store.save(90, 2_000)).toBe(90);
    expect(store.load()).toEqual({ siteDays: 90, setAt: 2_000 });
  });

  it('keeps the value across a reopen of the database file', () => {
    const dir = tempDir('cw-policy-store-');
    dirs.push(dir);
    const path = join(dir.path, 'gateway.db');
    const first = openDatabase(path);
    new RetentionPolicyStore(first).save(60, 5_000);
    first.close();
    // the migration runs again on the same file and leaves the row alone
    expect(new RetentionPolicyStore(open(path)).load()).toEqual({ siteDays: 60, setAt: 5_000 });
  });

  it('refuses below the floor and invalid values before writing, keeping the previous value', () => {
    const store = new RetentionPolicyStore(open());
    store.save(40, 1);
    expect(() => store.save(7)).toThrowError(expect.objectContaining({ code: 'RETENTION_BELOW_FLOOR' }));
    expect(() => store.save(29)).toThrowError(expect.objectContaining({ code: 'RETENTION_BELOW_FLOOR' }));
    expect(() => store.save('45')).toThrowError(expect.objectContaining({ code: 'RETENTION_BELOW_FLOOR' }));
    expect(() => store.save(45.5)).toThrowError(expect.objectContaining({ code: 'RETENTION_INVALID' }));
    expect(() => store.save(99_999)).toThrowError(expect.objectContaining({ code: 'RETENTION_INVALID' }));
    expect(store.load()).toEqual({ siteDays: 40, setAt: 1 });
  });

  it('the table itself refuses a value below 30 days written past the store', () => {
    const db = open();
    new RetentionPolicyStore(db);
    expect(() =>
      db.prepare('INSERT INTO retention_policy (id, site_days, set_at) VALUES (1, 7, 0)').run(),
    ).toThrow(/CHECK constraint failed/);
    expect(() =>
      db.prepare('INSERT INTO retention_policy (id, site_days, set_at) VALUES (2, 45, 0)').run(),
    ).toThrow(/CHECK constraint failed/);
  });
});

describe('effectiveSiteDays', () => {
  it('is the configured value without a stored policy', () => {
    expect(effectiveSiteDays(30, undefined)).toBe(30);
  });

  it('is the stored value when there is one, above or below the configured value', () => {
    expect(effectiveSiteDays(30, { siteDays: 45, setAt: 0 })).toBe(45);
    expect(effectiveSiteDays(90, { siteDays: 31, setAt: 0 })).toBe(31);
  });

  it('never applies a stored value below the floor or otherwise invalid: the configured value applies', () => {
    expect(effectiveSiteDays(30, { siteDays: 7, setAt: 0 })).toBe(30);
    expect(effectiveSiteDays(60, { siteDays: 29, setAt: 0 })).toBe(60);
    expect(effectiveSiteDays(60, { siteDays: 45.5, setAt: 0 })).toBe(60);
    expect(effectiveSiteDays(60, { siteDays: Number.NaN, setAt: 0 })).toBe(60);
  });
});
