import pg from 'pg';
import { CarewatchError, errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import type { Migration } from '../sqlite/open.js';

const log = logger('storage:pg');

export type Pool = pg.Pool;
export type Client = pg.PoolClient;
/** A pool (one statement, autocommit) or a client inside a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

/** int8 (BIGINT, count(*)) as a JS number: every value we store (ms timestamps, counters) fits in 2^53. */
const TYPES = new pg.TypeOverrides();
TYPES.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

/** The connection string with any password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable connection string)';
  }
}

export interface PoolOptions {
  /** Pool size per process; default 10. */
  max?: number;
  /** Per-statement timeout on the server, in ms; default 30 s. */
  statementTimeoutMs?: number;
}

export function createPool(connectionString: string, opts: PoolOptions = {}): Pool {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    types: TYPES,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: opts.statementTimeoutMs ?? 30_000,
    application_name: 'carewatch-central',
  });
  // an idle client losing its connection (server restart, network) must not crash the process
  pool.on('error', (err) => log.warn({ err: errorMessage(err) }, 'idle PostgreSQL connection failed'));
  return pool;
}

/** The SQLSTATE of a server error, if any. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Deadlock and serialization failures: the transaction was rolled back and can simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

/** Runs `fn` again (up to 5 attempts) when the server aborted it as a deadlock victim or serialization failure. */
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!RETRYABLE.has(sqlState(err) ?? '') || attempt >= MAX_ATTEMPTS) throw err;
      log.debug({ attempt, code: sqlState(err) }, 'statement aborted by the server, running it again');
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }
}

/**
 * Runs `fn` in one transaction on one pooled client: BEGIN, COMMIT on
 * success, ROLLBACK on any error (the client is discarded if even that
 * fails), and the client always goes back to the pool. Transactions that the
 * server aborted as deadlock victims are run again from the start.
 */
export function tx<T>(pool: Pool, fn: (c: Client) => Promise<T>): Promise<T> {
  return retrying(async () => {
    const client = await pool.connect();
    let broken: Error | undefined;
    // The pool listens for errors on idle clients only: a checked-out client whose connection dies
    // (server restart, network cut) emits 'error', and with no listener that ended the process.
    // The query in flight rejects on its own; this only keeps the client from being reused.
    const onError = (err: Error) => {
      broken ??= err;
      log.warn({ err: errorMessage(err) }, 'PostgreSQL connection lost inside a transaction');
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  });
}

const MIGRATION_LOCK = 'carewatch:schema_migrations';

/**
 * Applies the migrations the database lacks, one transaction each. Every
 * transaction first takes a transaction-scoped advisory lock, so processes
 * that start together apply each migration once; the others wait and then
 * find it recorded in `schema_migrations`.
 */
export async function migrate(
  pool: Pool,
  migrations: Migration[],
  table = 'schema_migrations',
): Promise<void> {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  for (const m of ordered) {
    await tx(pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [MIGRATION_LOCK]);
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`,
      );
      const done = await c.query(`SELECT 1 FROM ${table} WHERE version = $1`, [m.version]);
      if (done.rowCount) return;
      try {
        await c.query(m.sql);
      } catch (err) {
        throw new CarewatchError(
          'STORAGE_MIGRATION_FAILED',
          `PostgreSQL migration ${m.version} failed: ${errorMessage(err)}`,
          { version: m.version },
          { cause: err },
        );
      }
      await c.query(`INSERT INTO ${table} (version, applied_at) VALUES ($1, $2)`, [m.version, Date.now()]);
      log.info({ version: m.version }, 'applied schema migration');
    });
  }
}
