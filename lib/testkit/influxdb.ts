import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './procs.js';

/** The `influxd` binary on PATH (Debian package `influxdb`, 1.6), or null. */
export function influxdPath(): string | null {
  try {
    const p = execFileSync('sh', ['-c', 'command -v influxd'], { encoding: 'utf8' }).trim();
    return p || null;
  } catch {
    return null;
  }
}

export interface Influxd {
  url: string;
  port: number;
  dir: string;
  /** Stops (SIGTERM, or the given signal) without removing the data. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts again on the same directories and ports. */
  start(): Promise<void>;
  /** Stops and removes every file. */
  stop(): Promise<void>;
  output(): string;
}

/**
 * A throwaway influxd: its config, meta, data and WAL in a temp dir, HTTP and
 * the RPC service bound to 127.0.0.1 on free ports, reporting and every other
 * listener off, WAL fsync'd on every write. Null when influxd is not installed.
 */
export async function startInfluxd(): Promise<Influxd | null> {
  const bin = influxdPath();
  if (!bin) return null;
  const dir = mkdtempSync(join(tmpdir(), 'cw-influx-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-enabled = false',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${dir}/meta"`,
      '  logging-enabled = false',
      '[data]',
      `  dir = "${dir}/data"`,
      `  wal-dir = "${dir}/wal"`,
      '  wal-fsync-delay = "0s"',
      '  query-log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "127.0.0.1:${port}"`,
      '  auth-enabled = false',
      '  log-enabled = false',
      '  pprof-enabled = false',
      '  unix-socket-enabled = false',
      '[ifql]',
      '  enabled = false',
      '[subscriber]',
      '  enabled = false',
      '[continuous_queries]',
      '  enabled = true',
      '  log-enabled = false',
      '[logging]',
      '  level = "warn"',
      '  suppress-logo = true',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let out = '';
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill(signal);
    });
  };
  const start = async () => {
    const c = spawn(bin, ['-config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-4000);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (c.exitCode !== null) break;
      const ok = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(500) }).then(
        (r) => r.status === 204,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await kill('SIGKILL');
    throw new Error(`influxd did not answer /ping on ${url}:\n${out}`);
  };
  process.once('exit', () => child?.kill('SIGKILL'));
  try {
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    dir,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => out,
  };
}
