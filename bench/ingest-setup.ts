/**
 * Set-up shared by the parts of `bench:ingest`: provisioning many gateways in
 * batches through the library (one store connection, hashes computed in
 * parallel), central processes started from a written config, and a
 * process's resident memory.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashPassword } from '../lib/passwords.js';
import { cli, freePort, type Proc } from '../lib/testkit/procs.js';
import { openCentralStore } from '../storage/open-store.js';
import type { BenchGateway } from './ingest-load.js';

/**
 * The hash `provision` gives a secret it generated (scrypt N=2^10): the bench
 * gateways' secrets are `randomSecret(18)`, so this is what a production
 * central stores for them. `light: false` hashes them as chosen passwords
 * (N=2^15), about 32 times the CPU per login.
 */
export function lightHash(password: string): Promise<string> {
  return hashPassword(password, 'generated');
}

/** Sites and gateways written through the repository, `batch` hashes at a time. */
export async function provisionMany(
  target: { dataDir: string; postgresUrl?: string | undefined },
  gateways: BenchGateway[],
  opts: { light?: boolean; batch?: number; progress?: (done: number) => void } = {},
): Promise<void> {
  const store = await openCentralStore(target);
  const hash = opts.light ? lightHash : hashPassword;
  const batch = opts.batch ?? 16;
  try {
    for (let i = 0; i < gateways.length; i += batch) {
      const part = gateways.slice(i, i + batch);
      const hashes = await Promise.all(part.map((g) => hash(g.password)));
      for (const [j, g] of part.entries()) {
        await store.registry.upsertSite({ id: g.siteId, name: g.siteId, region: null });
        await store.registry.putGateway({ id: g.gatewayId, siteId: g.siteId, secretHash: hashes[j]! });
      }
      opts.progress?.(i + part.length);
    }
  } finally {
    await store.close();
  }
}

export interface CentralProc {
  proc: Proc;
  pid: number;
  mqttPort: number;
  httpPort: number;
  stop(): Promise<void>;
}

/** A `carewatch central` process with the given config (ports chosen here unless set). */
export async function startCentralProc(
  dir: string,
  name: string,
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
  readyTimeoutMs = 60_000,
): Promise<CentralProc> {
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const mqtt = { port: mqttPort, ...(config.mqtt as object | undefined) };
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify({ ...config, mqtt, http: { port: httpPort } }));
  const proc = cli(['central', '--config', file], env);
  await proc.waitFor(/central ready/, readyTimeoutMs);
  return {
    proc,
    pid: proc.child.pid!,
    mqttPort,
    httpPort,
    stop: async () => {
      await proc.kill('SIGTERM');
    },
  };
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU seconds (user + system) a process has used so far (Linux /proc, clock ticks of 1/100 s). */
export function cpuOf(pid: number, thread?: number): number {
  try {
    const stat = readFileSync(
      thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
      'utf8',
    );
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime
  } catch {
    return 0; // gone
  }
}

/** Pids whose command line contains `needle` (e.g. a Mosquitto config path). */
export function pidsWith(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
