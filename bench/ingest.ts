/**
 * `npm run bench:ingest`, two parts:
 *
 * (a) End-to-end persisted events per second: simulated gateways (own
 *     credentials each) publish attendance envelopes at QoS 1 with a bounded
 *     window; the figure is taken from rows counted in the central store.
 *     Embedded (aedes + SQLite) against a bare aedes; Mosquitto + PostgreSQL
 *     with 1 and 2 central instances (shared subscription) against a bare
 *     Mosquitto. Each baseline is measured before and after, same publishers.
 * (b) Connected gateways one embedded central holds, its memory per
 *     connection, and the time to connect them all.
 *
 * Knobs (quick defaults): BENCH_GATEWAYS=16 BENCH_EVENTS=4000 BENCH_WINDOW=32
 * BENCH_WARMUP=400 BENCH_RUN_DEADLINE_S=120 BENCH_PARTS=embedded,external,conns
 * BENCH_CONNS=500 BENCH_CONN_HASH=light|prod (generated secrets' N=2^10, or chosen passwords' N=2^15) BENCH_CONN_CONCURRENCY=64
 * BENCH_KEEPALIVE_S=10 BENCH_HOLD_S=16 BENCH_CONN_PROD_SAMPLE=20 BENCH_CONN_DEADLINE_S=600
 * BENCH_CONSUMERS (consumer connections per central instance, external part; default the central's 16)
 */
import { execSync, spawnSync } from 'node:child_process';
import { randomSecret } from '../lib/passwords.js';
import { requireBuild, tempDir } from '../lib/testkit/procs.js';
import { connectionScale } from './ingest-conns.js';
import { benchGateways } from './ingest-load.js';
import { throughputParts } from './ingest-throughput.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const GATEWAYS = env('BENCH_GATEWAYS', 16);
const EVENTS = env('BENCH_EVENTS', 4000);
const WINDOW = env('BENCH_WINDOW', 32);
const WARMUP = env('BENCH_WARMUP', 400);
const RUN_DEADLINE_MS = env('BENCH_RUN_DEADLINE_S', 120) * 1000;
const PARTS = (process.env.BENCH_PARTS ?? 'embedded,external,conns').split(',');
const CONNS = env('BENCH_CONNS', 500);
const PER_GW = Math.ceil(EVENTS / GATEWAYS);

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

/** The connection part needs a descriptor per connection in this process and in the central. */
function ensureFdLimit(): void {
  if (!PARTS.includes('conns')) return;
  const need = CONNS + 1024;
  const soft = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
  if (soft >= need || process.env.BENCH_ULIMIT_RAISED) return;
  console.log(`raising the open-file limit from ${soft} to ${need} (ulimit -n) and starting again`);
  const r = spawnSync(
    '/bin/sh',
    ['-c', `ulimit -n ${need} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, BENCH_ULIMIT_RAISED: '1' } },
  );
  process.exit(r.status ?? 1);
}

async function connsPart(dir: string): Promise<void> {
  const light = (process.env.BENCH_CONN_HASH ?? 'light') === 'light';
  console.log(
    `connections: ${CONNS} gateways on one embedded central (${light ? 'generated secrets, scrypt N=2^10' : 'chosen passwords, scrypt N=2^15'})`,
  );
  const r = await connectionScale({
    dir,
    count: CONNS,
    light,
    concurrency: env('BENCH_CONN_CONCURRENCY', 64),
    keepaliveS: env('BENCH_KEEPALIVE_S', 10),
    holdS: env('BENCH_HOLD_S', 16),
    prodSample: env('BENCH_CONN_PROD_SAMPLE', 20),
    deadlineMs: env('BENCH_CONN_DEADLINE_S', 600) * 1000,
    log: (l) => console.log(l),
  });
  const per = r.connected ? (r.rssAfter - r.rssBefore) / r.connected : Number.NaN;
  const lines = [
    `  provisioned ${fmt(r.requested)} gateways in ${r.provisionSeconds.toFixed(1)} s (${light ? 'scrypt N=2^10' : 'scrypt N=2^15'}); central ready ${r.startSeconds.toFixed(1)} s after start`,
    `  connected ${fmt(r.connected)} (${r.failed} failed${r.firstError ? `: ${r.firstError}` : ''}) in ${r.connectSeconds.toFixed(1)} s (${fmt(r.connected / r.connectSeconds)}/s); broker reports ${r.brokerCount ?? '?'} clients`,
    `  central RSS ${mib(r.rssBefore)} idle → ${mib(r.rssAfter)} connected → ${mib(r.rssAfterHold)} after ${r.holdSeconds.toFixed(0)} s hold; ${(per / 1024).toFixed(1)} KiB per connection`,
    `  alive after the hold: ${fmt(r.aliveAfterHold)} of ${fmt(r.connected)} (each answered at least ${r.minPongs} keepalive pings)`,
    `  chosen-password hashes (scrypt N=2^15), ${r.prodSample.n} gateways: provisioned in ${r.prodSample.provisionSeconds.toFixed(1)} s, ${r.prodSample.connected} connected in ${r.prodSample.connectSeconds.toFixed(1)} s (${(r.prodSample.connected / r.prodSample.connectSeconds).toFixed(1)}/s)`,
  ];
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  ensureFdLimit();
  process.setMaxListeners(100); // every broker helper kills its child on exit
  requireBuild();
  const dir = tempDir('cw-bench-ingest-');
  const gws = benchGateways(GATEWAYS, () => randomSecret(18));
  console.log(
    `bench:ingest: ${GATEWAYS} gateways × ${PER_GW} attendance events at QoS 1, window ${WINDOW} per gateway, warm-up ${WARMUP}`,
  );
  try {
    const parts = throughputParts({
      perGateway: PER_GW,
      window: WINDOW,
      warmup: WARMUP,
      deadlineMs: RUN_DEADLINE_MS,
      consumers: process.env.BENCH_CONSUMERS ? Number(process.env.BENCH_CONSUMERS) : undefined,
      log: (l) => console.log(l),
    });
    const rows = parts.rows;
    if (PARTS.includes('embedded')) await parts.embeddedPart(dir.path, gws);
    if (PARTS.includes('external')) await parts.externalPart(dir.path, gws);
    if (rows.length) {
      console.log(
        '\n| run | events | counted as | time | rate | ratio to its baseline | server CPU per event |',
      );
      console.log('|---|---|---|---|---|---|---|');
      console.log(rows.join('\n'));
      console.log('');
    }
    if (PARTS.includes('conns')) await connsPart(dir.path);
  } finally {
    dir.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
