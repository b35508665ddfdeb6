import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './procs.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export function haveMosquitto(): boolean {
  return existsSync(MOSQUITTO) && existsSync('/usr/bin/mosquitto_passwd');
}

export interface Mosquitto {
  port: number;
  url: string;
  restart(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * A throwaway Mosquitto on 127.0.0.1 with a password file, an ACL and
 * on-disk persistence (so a restart keeps sessions and queued messages).
 */
export async function startMosquitto(
  dir: string,
  users: Record<string, string>,
  acl: string,
): Promise<Mosquitto> {
  const port = await freePort();
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  for (const [u, p] of Object.entries(users)) execFileSync('/usr/bin/mosquitto_passwd', ['-b', passwd, u, p]);
  writeFileSync(join(dir, 'acl'), acl);
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${join(dir, 'acl')}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 1',
      'max_queued_messages 100000',
      'max_inflight_messages 100',
      // as root, mosquitto would switch to its own user, which cannot write the test's private folder
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const up = async () => {
    const c = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    let err = '';
    c.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    for (let i = 0; i < 100; i++) {
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
    throw new Error(`mosquitto did not start: ${err}`);
  };
  const down = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child;
    // killed by a signal, a process has no exit code: without the second check a restart after kill('SIGKILL') waited for ever
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill(signal);
    });
  };
  process.once('exit', () => child?.kill('SIGKILL'));
  await up();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async restart() {
      await down();
      await up();
    },
    kill: down,
  };
}
