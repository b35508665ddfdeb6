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
 * BENCH_CONNS=500 BENCH_CONN_HASH=light|prod BENCH_CONN_CONCURRENCY=64
 * BENCH_KEEPALIVE_S=10 BENCH_HOLD_S=16 BENCH_CONN_PROD_SAMPLE=20 BENCH_CONN_DEADLINE_S=600
 */
import { execSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { mosquittoAcl } from '../ingest/mosquitto.js';
import { randomSecret } from '../lib/passwords.js';
import { haveMosquitto, startMosquitto } from '../lib/testkit/mosquitto.js';
import { startTestPostgres, type TestPostgres } from '../lib/testkit/postgres.js';
import { requireBuild, tempDir } from '../lib/testkit/procs.js';
import { type BareBroker, startBareAedes, startBareMosquitto } from './ingest-brokers.js';
import { connectionScale } from './ingest-conns.js';
import {
  type BenchGateway,
  benchGateways,
  type Counter,
  eventsSubscriber,
  type LoadResult,
  pgCounter,
  runLoad,
  sqliteCounter,
} from './ingest-load.js';
import { type CentralProc, cpuOf, pidsWith, provisionMany, startCentralProc } from './ingest-setup.js';

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
const rows: string[] = [];

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

async function measure(
  label: string,
  url: string,
  gateways: BenchGateway[],
  o: { anonymous?: boolean; counter?: () => Promise<Counter>; pids?: number[] } = {},
): Promise<Measured> {
  const base = {
    url,
    gateways,
    window: WINDOW,
    deadlineMs: RUN_DEADLINE_MS,
    anonymous: o.anonymous ?? false,
  };
  const warmCounter = o.counter ? await o.counter() : undefined;
  await runLoad({
    ...base,
    perGateway: Math.ceil(WARMUP / gateways.length),
    ...(warmCounter ? { counter: warmCounter } : {}),
  });
  await warmCounter?.close();
  const counter = o.counter ? await o.counter() : undefined;
  const cpu = () => (o.pids ?? []).reduce((sum, pid) => sum + cpuOf(pid), 0);
  try {
    const cpu0 = cpu();
    const loaded = await runLoad({
      ...base,
      perGateway: PER_GW,
      seqBase: 1_000_000,
      ...(counter ? { counter } : {}),
    });
    const r = { ...loaded, cpuMs: ((cpu() - cpu0) * 1000) / loaded.sent };
    console.log(
      `  ${label}: ${fmt(r.rate)} events/s (${r.arrived}/${r.sent} in ${r.seconds.toFixed(2)} s; ` +
        `all PUBACKs after ${r.ackSeconds.toFixed(2)} s; server CPU ${r.cpuMs.toFixed(3)} ms/event)${r.complete ? '' : ' INCOMPLETE: deadline reached'}`,
    );
    return r;
  } finally {
    await counter?.close();
  }
}

type Measured = LoadResult & { cpuMs: number };

function row(label: string, r: Measured, baseline: number, where: string): void {
  rows.push(
    `| ${label} | ${fmt(r.sent)} | ${where} | ${r.seconds.toFixed(2)} s | ${fmt(r.rate)}/s | ${(r.rate / baseline).toFixed(2)}${r.complete ? '' : ' (incomplete)'} | ${r.cpuMs.toFixed(3)} ms |`,
  );
}

function baselineRow(
  label: string,
  a: Measured,
  b: Measured,
  where: string,
  ref = (a.rate + b.rate) / 2,
): number {
  const rate = (a.rate + b.rate) / 2;
  rows.push(
    `| ${label} (mean of before ${fmt(a.rate)}/s and after ${fmt(b.rate)}/s) | ${fmt(a.sent)} | ${where} | | ${fmt(rate)}/s | ${(rate / ref).toFixed(2)} | ${((a.cpuMs + b.cpuMs) / 2).toFixed(3)} ms |`,
  );
  return rate;
}

async function embeddedPart(dir: string, gws: BenchGateway[]): Promise<void> {
  console.log('embedded: central (aedes + SQLite) against a bare aedes');
  const bare = async (tag: string) => {
    const b: BareBroker = await startBareAedes();
    try {
      return await measure(`bare aedes (${tag})`, b.url, gws, { anonymous: true, pids: [b.pid] });
    } finally {
      await b.stop();
    }
  };
  const before = await bare('before');
  const dataDir = join(dir, 'embedded');
  await provisionMany({ dataDir }, gws);
  const central = await startCentralProc(dir, 'central-embedded', { dataDir });
  let r: Measured;
  try {
    r = await measure('embedded central', `mqtt://127.0.0.1:${central.mqttPort}`, gws, {
      counter: async () => sqliteCounter(join(dataDir, 'central.db')),
      pids: [central.pid],
    });
  } finally {
    await central.stop();
  }
  const after = await bare('after');
  const baseline = baselineRow('bare aedes, no hooks: baseline', before, after, 'PUBACKs');
  row('embedded central: aedes + SQLite', r, baseline, 'rows in SQLite');
  console.log(`  ratio ${(r.rate / baseline).toFixed(2)} (target ≥ 0.6)`);
}

async function externalCase(
  dir: string,
  pg: TestPostgres,
  gws: BenchGateway[],
  instances: number,
): Promise<Measured> {
  const caseDir = join(dir, `external-${instances}`);
  mkdirSync(caseDir, { recursive: true });
  const db = await pg.createDatabase();
  await provisionMany({ dataDir: caseDir, postgresUrl: db }, gws);
  const secret = randomSecret(18);
  const users = Object.fromEntries(gws.map((g) => [g.gatewayId, g.password]));
  const broker = await startMosquitto(
    caseDir,
    { ...users, 'carewatch-central': secret },
    mosquittoAcl(
      gws.map((g) => ({ id: g.gatewayId, siteId: g.siteId })),
      'carewatch-central',
    ),
  );
  const centrals: CentralProc[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      centrals.push(
        await startCentralProc(
          caseDir,
          `central-${i}`,
          {
            dataDir: caseDir,
            mqtt: {
              mode: 'external',
              external: {
                url: broker.url,
                username: 'carewatch-central',
                clientId: `central-${i}`,
                shareGroup: 'ingest',
              },
            },
            storage: { postgresUrl: db },
          },
          { CAREWATCH_MQTT_PASSWORD: secret },
        ),
      );
    }
    return await measure(`Mosquitto + PostgreSQL, ${instances} instance(s)`, broker.url, gws, {
      counter: () => pgCounter(db),
      pids: [...centrals.map((c) => c.pid), ...pidsWith(join(caseDir, 'mosquitto.conf'))],
    });
  } finally {
    for (const c of centrals) await c.stop();
    await broker.kill();
  }
}

async function externalPart(dir: string, gws: BenchGateway[]): Promise<void> {
  console.log('external: Mosquitto + PostgreSQL with 1 and 2 central instances against a bare Mosquitto');
  if (!haveMosquitto()) throw new Error('mosquitto is not installed (.ci/run installs it)');
  const pg = await startTestPostgres();
  if (!pg) throw new Error('no PostgreSQL (.ci/run installs it)');
  const bare = async (tag: string, withSub: boolean) => {
    const b = await startBareMosquitto(dir);
    try {
      return await measure(`bare Mosquitto${withSub ? ' + QoS 1 subscriber' : ''} (${tag})`, b.url, gws, {
        anonymous: true,
        pids: [b.pid],
        ...(withSub ? { counter: () => eventsSubscriber(b.url) } : {}),
      });
    } finally {
      await b.stop();
    }
  };
  try {
    const before = await bare('before', false);
    const subBefore = await bare('before', true);
    const one = await externalCase(dir, pg, gws, 1);
    const two = await externalCase(dir, pg, gws, 2);
    const after = await bare('after', false);
    const subAfter = await bare('after', true);
    const baseline = baselineRow('bare Mosquitto, plain listener: baseline', before, after, 'PUBACKs');
    baselineRow(
      'bare Mosquitto + one QoS 1 subscriber',
      subBefore,
      subAfter,
      'messages at the subscriber',
      baseline,
    );
    row('Mosquitto (auth, ACL, persistence) + PostgreSQL, 1 instance', one, baseline, 'rows in PostgreSQL');
    row('Mosquitto (auth, ACL, persistence) + PostgreSQL, 2 instances', two, baseline, 'rows in PostgreSQL');
    console.log(
      `  ratios: 1 instance ${(one.rate / baseline).toFixed(2)}, 2 instances ${(two.rate / baseline).toFixed(2)}`,
    );
  } finally {
    await pg.stop();
  }
}

async function connsPart(dir: string): Promise<void> {
  const light = (process.env.BENCH_CONN_HASH ?? 'light') === 'light';
  console.log(
    `connections: ${CONNS} gateways on one embedded central (${light ? 'light' : 'production'} scrypt hashes)`,
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
    `  production hashes (scrypt N=2^15), ${r.prodSample.n} gateways: provisioned in ${r.prodSample.provisionSeconds.toFixed(1)} s, ${r.prodSample.connected} connected in ${r.prodSample.connectSeconds.toFixed(1)} s (${(r.prodSample.connected / r.prodSample.connectSeconds).toFixed(1)}/s)`,
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
    if (PARTS.includes('embedded')) await embeddedPart(dir.path, gws);
    if (PARTS.includes('external')) await externalPart(dir.path, gws);
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
