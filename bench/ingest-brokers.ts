/**
 * The baselines of `bench:ingest`, each a separate process like the central
 * it is compared with: a bare aedes (no hooks) and a bare Mosquitto (a plain
 * listener: anonymous, no ACL, no persistence).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { MOSQUITTO } from '../lib/testkit/mosquitto.js';
import { freePort, ROOT } from '../lib/testkit/procs.js';

export interface BareBroker {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGTERM');
    });
}

async function listening(port: number, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

export async function startBareAedes(): Promise<BareBroker> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'bare-aedes.js'), String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  track(child);
  await listening(port, child, 'bare aedes');
  return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop: stopper(child) };
}

export async function startBareMosquitto(dir: string): Promise<BareBroker> {
  const port = await freePort();
  const conf = join(dir, 'bare-mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // the same queue limits as the carewatch Mosquitto (lib/testkit/mosquitto.ts)
      'max_queued_messages 100000',
      'max_inflight_messages 100',
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  );
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-2000);
  });
  track(child);
  await listening(port, child, 'bare mosquitto').catch((e: Error) => {
    throw new Error(`${e.message}: ${err}`);
  });
  return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop: stopper(child) };
}
