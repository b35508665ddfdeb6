/** Process, port and temp-dir helpers shared by the integration tests and the benchmarks. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

export const ROOT = packageRoot();
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does)`);
}

export function tempDir(prefix = 'cw-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Ports handed to child processes come from below the kernel's ephemeral range
 * (32768–60999 here): a port found by binding to 0 and released can be taken by
 * any process's next outgoing connection or port-0 listener before the child
 * binds it (seen as EADDRINUSE in CI). Random picks from this range, checked
 * by a bind and never handed out twice by one process, only meet each other.
 */
const PORT_LOW = 20_000;
const PORT_HIGH = 32_000;
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** A free loopback TCP port for a child process to listen on. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${PORT_LOW} and ${PORT_HIGH} after 200 tries`);
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  kill: (signal?: NodeJS.Signals) => Promise<number | null>;
  send: (line: string) => void;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Runs the carewatch CLI as a separate process. CAREWATCH_PROC_NODE_ARGS adds
 * node options to it (for profiling a benchmark's processes, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS does not take).
 */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const nodeArgs = (process.env.CAREWATCH_PROC_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      CAREWATCH_LOG_LEVEL: process.env.CAREWATCH_LOG_LEVEL ?? 'info',
      VITEST: '',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      live.delete(child);
      for (const w of [...waiters]) w();
      r(code);
    }),
  );
  return {
    child,
    output: () => out,
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = out.match(re);
          if (m) {
            waiters.splice(waiters.indexOf(check), 1);
            clearTimeout(t);
            res(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.splice(waiters.indexOf(check), 1);
            clearTimeout(t);
            rej(
              new Error(
                `process exited (${child.exitCode ?? child.signalCode}) before ${re}:\n${out.slice(-3000)}`,
              ),
            );
          }
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          rej(new Error(`timed out waiting for ${re}:\n${out.slice(-3000)}`));
        }, timeoutMs);
        waiters.push(check);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    send(line) {
      child.stdin!.write(`${line}\n`);
    },
  };
}

export async function until<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  stepMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}
