import { closeSync, fdatasync, openSync } from 'node:fs';
import type { Db } from './open.js';
import { relaxedTransaction } from './relaxed.js';

/** `fs.fdatasync`'s callback form (tests hold it back or fail it). */
export type Datasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;

/**
 * Makes the WAL durable with an fdatasync run on libuv's thread pool, so the
 * event loop does not stop for it. fdatasync works on the file, whichever
 * descriptor wrote to it: after it returns, every frame SQLite had written
 * to the WAL when it started is on disk. Two may run at once (a commit need
 * not wait for one that started before it; the file system merges them);
 * commits that arrive while both run share the next one (group commit).
 * One at a time measured the same throughput and a higher latency for a
 * button press under 500 background events/s (p99 12.2 against 9.0 ms).
 */
export class WalSync {
  private fd: number | undefined;
  private readonly running = new Set<Promise<void>>();
  private queued: Promise<void> | null = null;
  /** fdatasync calls made, and callers they answered (for tests and metrics). */
  syncs = 0;
  waits = 0;

  constructor(
    private readonly walPath: string,
    private readonly datasync: Datasync = fdatasync,
    /** fdatasync calls in flight at once (the file system merges them into its journal commits). */
    private readonly concurrency = 2,
  ) {}

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    this.waits++;
    if (this.running.size < this.concurrency) return this.start();
    // those in flight may have started before the caller's commit: share the next one
    this.queued ??= Promise.race([...this.running].map((p) => p.catch(() => undefined))).then(() => {
      this.queued = null;
      return this.start();
    });
    return this.queued;
  }

  private start(): Promise<void> {
    const p = this.run();
    this.running.add(p);
    p.catch(() => undefined).finally(() => this.running.delete(p));
    return p;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private run(): Promise<void> {
    const p: Promise<void> = new Promise<void>((resolve, reject) => {
      try {
        this.fd ??= openSync(this.walPath, 'r+');
      } catch (err) {
        reject(err);
        return;
      }
      this.datasync(this.fd, (err) => {
        this.syncs++;
        if (err) reject(err);
        else resolve();
      });
    });
    return p;
  }
}

const syncs = new WeakMap<Db, WalSync>();

/** The WAL sync of a file database (none for an in-memory one). */
export function walSyncOf(db: Db): WalSync | undefined {
  if (db.memory) return undefined;
  let s = syncs.get(db);
  if (!s) {
    s = new WalSync(`${db.name}-wal`);
    syncs.set(db, s);
  }
  return s;
}

/** Puts a given sync in front of `db` (tests: one whose fdatasync they hold back). */
export function useWalSync(db: Db, sync: WalSync): void {
  syncs.set(db, sync);
}

/** Closes the WAL descriptor of `db`'s sync, if it has one (call before closing the database). */
export function closeWalSync(db: Db): void {
  syncs.get(db)?.close();
  syncs.delete(db);
}

/**
 * One transaction whose commit skips SQLite's own fsync, then the shared
 * fdatasync of the WAL off the event loop: the promise resolves when the
 * commit is as durable as a `synchronous=FULL` one, and the event loop went on
 * serving other clients meanwhile (a seventh of the central's time under load
 * was spent waiting in those fsyncs). A crash before the sync can lose the
 * commit, never half of it, and its caller had not been answered yet.
 */
export async function durableTransaction<T>(db: Db, fn: () => T): Promise<T> {
  // inside another transaction the commit (and so the durability) is the outer one's
  if (db.inTransaction) throw new TypeError('durableTransaction cannot run inside another transaction');
  const sync = walSyncOf(db);
  if (!sync) return db.transaction(fn)();
  const result = relaxedTransaction(db, fn);
  await sync.sync();
  return result;
}
