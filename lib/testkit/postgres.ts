/**
 * A PostgreSQL server for tests: the one named by CAREWATCH_PG_URL, or a
 * throwaway cluster started here on loopback (Debian package `postgresql`).
 * Each caller gets fresh databases that are dropped again by `stop()`.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './procs.js';

/** The newest `/usr/lib/postgresql/<major>/bin` that has initdb, pg_ctl and postgres, or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root)
    .filter((d) => /^\d+(\.\d+)?$/.test(d))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const m of majors) {
    const bin = join(root, m, 'bin');
    if (['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(bin, b)))) return bin;
  }
  return null;
}

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function postgresUnavailable(): string | null {
  if (process.env.CAREWATCH_PG_URL || postgresBinDir()) return null;
  return 'no PostgreSQL: set CAREWATCH_PG_URL or install the Debian package postgresql';
}

export interface TestPostgres {
  /** Connection string of the maintenance database (`postgres`). */
  adminUrl: string;
  /** True when this helper started the server (false: CAREWATCH_PG_URL). */
  owned: boolean;
  /** Creates an empty database and returns its connection string. */
  createDatabase(): Promise<string>;
  /** Drops the databases created here; stops and removes an owned server. */
  stop(): Promise<void>;
  /** The tail of an owned server's log. */
  log(): string;
}

interface Cluster {
  adminUrl: string;
  stop: () => void;
  log: () => string;
}

/** Runs a binary directly, or as `user` through runuser when we are root (initdb and postgres refuse root). */
function run(bin: string, args: string[], user: string | null): string {
  const [cmd, argv] = user ? ['runuser', ['-u', user, '--', bin, ...args]] : [bin, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

function unprivilegedUser(): { name: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error('running as root and neither the postgres nor the nobody user exists to run initdb');
}

const live = new Set<() => void>();
process.once('exit', () => {
  for (const stop of live) stop();
});

async function startCluster(bin: string): Promise<Cluster> {
  const user = unprivilegedUser();
  const dir = mkdtempSync(join(tmpdir(), 'cw-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };
  const pgCtl = join(bin, 'pg_ctl');
  let running = false;
  const stop = () => {
    live.delete(stop);
    if (running) {
      try {
        run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop'], user?.name ?? null);
      } catch {
        // already gone
      }
      running = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  live.add(stop);
  try {
    run(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'],
      user?.name ?? null,
    );
    // a throwaway cluster: durability off for speed, loopback only, socket in the temp dir
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const opts = [
        `-p ${port}`,
        `-k ${dir}`,
        "-c listen_addresses='127.0.0.1'",
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=200',
      ].join(' ');
      try {
        run(pgCtl, ['-D', data, '-l', logFile, '-o', opts, '-w', '-t', '30', 'start'], user?.name ?? null);
        running = true;
        return { adminUrl: `postgresql://postgres@127.0.0.1:${port}/postgres`, stop, log };
      } catch (err) {
        lastErr = err; // most likely the port was taken in between: try another
      }
    }
    throw new Error(`PostgreSQL did not start: ${String(lastErr)}\n${log()}`);
  } catch (err) {
    stop();
    throw err;
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

let dbCounter = 0;

/**
 * Connects to CAREWATCH_PG_URL or starts a throwaway server (initdb as the
 * postgres user when running as root, trust auth, a free 127.0.0.1 port, the
 * socket in the temp dir). Null only when no PostgreSQL binaries exist and no
 * URL is set.
 */
export async function startTestPostgres(): Promise<TestPostgres | null> {
  const external = process.env.CAREWATCH_PG_URL;
  let cluster: Cluster | null = null;
  let adminUrl: string;
  if (external) {
    adminUrl = external;
  } else {
    const bin = postgresBinDir();
    if (!bin) return null;
    cluster = await startCluster(bin);
    adminUrl = cluster.adminUrl;
  }
  const created: string[] = [];
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    adminUrl,
    owned: cluster !== null,
    async createDatabase() {
      const name = `cw_test_${process.pid}_${Date.now().toString(36)}_${++dbCounter}`;
      await admin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
      created.push(name);
      return withDatabase(adminUrl, name);
    },
    async stop() {
      if (cluster) {
        cluster.stop();
        return;
      }
      await admin(async (c) => {
        for (const name of created.splice(0)) {
          await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
        }
      });
    },
    log: () => cluster?.log() ?? '',
  };
}
