/**
 * `npm run bench:panels`: alarm panels (SIA DC-09) and fire-alarm
 * transmission devices (GB/T 26875.3).
 *
 * (a) Frames per second the receivers acknowledge: closed-loop simulated
 *     panels/devices over loopback TCP against the real receiver (in a
 *     child process, its sink only counting) and, as the same-run baseline,
 *     against a bare TCP ack server that does no parsing (panels-servers.ts);
 *     also the server process's CPU time per frame, which a shared machine
 *     disturbs less than the wall-clock rate.
 * (b) Frame → alert latency: a DC-09 fire frame (plain and AES) and a
 *     GB 26875 part fire frame sent to a real gateway process, until the
 *     `opened` alert is on a supervisor WebSocket of a real central process;
 *     each sample followed by the restore (until `resolved`). Floor: the
 *     bare aedes hop (QoS 1 publish → subscribe), as in bench/latency.ts.
 *
 * (c) Frames per second the gateway process acknowledges: the load of (a)
 *     against the gateway's own receivers, whose sinks write to the outbox,
 *     as ratios to the bare servers of (a).
 *
 * (d) The DC-09 receiver's cost per frame with many messages remembered for
 *     replay detection, against a fresh receiver (panels-dedup.ts).
 *
 * Environment: BENCH_PANELS_CONNS (8), BENCH_PANELS_SECONDS per run (3),
 * BENCH_PANELS_REPEAT runs per server in (a) (2), BENCH_PANELS_WARM_S (0.5),
 * BENCH_PANELS_MAX_FRAMES per run (200000), BENCH_PANELS_N latency samples
 * per kind (60), BENCH_PANELS_REMEMBERED (10000).
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { freePort, requireBuild, tempDir } from '../lib/testkit/procs.js';
import { login, setupSite, startCentral, startGateway } from '../lib/testkit/site.js';
import { supervisorSocket } from '../lib/testkit/ws.js';
import { Dc09Dialler } from '../simulators/dc09/dialler.js';
import { Gb26875DeviceSim } from '../simulators/gb26875/device.js';
import { dc09DedupCost } from './panels-dedup.js';
import { dc09Load, gb26875Load, type LoadOptions, type LoadResult } from './panels-load.js';
import { ServerProcess, type ServerStats } from './panels-servers.js';
import { ms, summary } from './stats.js';

const env = (name: string, def: number) => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const CONNS = Math.min(256, Math.floor(env('BENCH_PANELS_CONNS', 8)));
const SECONDS = Math.min(120, env('BENCH_PANELS_SECONDS', 3));
const REPEAT = Math.min(20, Math.floor(env('BENCH_PANELS_REPEAT', 2)));
const WARM_S = Math.min(30, env('BENCH_PANELS_WARM_S', 0.5));
const MAX_FRAMES = Math.floor(env('BENCH_PANELS_MAX_FRAMES', 200_000));
const N = Math.min(5000, Math.floor(env('BENCH_PANELS_N', 60)));
const REMEMBERED = Math.min(100_000, Math.floor(env('BENCH_PANELS_REMEMBERED', 10_000)));

const AES128 = '000102030405060708090A0B0C0D0E0F';
const AES256 = '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F';
const ACCOUNTS = Array.from({ length: CONNS }, (_, i) => (0x1000 + i).toString(16).toUpperCase());
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

interface Scenario {
  name: string;
  protocol: 'dc09' | 'gb26875';
  key?: string;
  format?: 'cid' | 'sia';
}

const SCENARIOS: Scenario[] = [
  { name: 'DC-09 ADM-CID, plain', protocol: 'dc09', format: 'cid' },
  { name: 'DC-09 ADM-CID, AES-128', protocol: 'dc09', format: 'cid', key: AES128 },
  { name: 'DC-09 SIA-DCS, AES-256', protocol: 'dc09', format: 'sia', key: AES256 },
  { name: 'GB/T 26875.3 part fire/restore', protocol: 'gb26875' },
];

interface Run {
  load: LoadResult;
  server: ServerStats;
}

async function runOne(sc: Scenario, bare: boolean): Promise<Run> {
  const kind = `${sc.protocol}${bare ? '-bare' : ''}` as const;
  const server = await ServerProcess.start({
    kind,
    accounts: ACCOUNTS,
    ...(sc.key ? { key: sc.key } : {}),
  });
  try {
    const opts: LoadOptions = {
      port: server.port,
      connections: CONNS,
      warmSeconds: WARM_S,
      seconds: SECONDS,
      maxFrames: MAX_FRAMES,
    };
    const load =
      sc.protocol === 'dc09'
        ? await dc09Load({
            ...opts,
            accounts: ACCOUNTS,
            format: sc.format ?? 'cid',
            ...(sc.key ? { key: sc.key } : {}),
          })
        : await gb26875Load(opts);
    return { load, server: await server.stats() };
  } finally {
    await server.stop();
  }
}

const rate = (r: LoadResult) => r.acked / r.seconds;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

function median(values: number[]): number {
  const xs = [...values].sort((a, b) => a - b);
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
}

/** Median frames/s of the runs, and every run's figure. */
function rates(runs: Run[]): { median: number; all: string } {
  return {
    median: median(runs.map((r) => rate(r.load))),
    all: runs.map((r) => fmt(rate(r.load))).join(' / '),
  };
}

/** Median server CPU time (user + system) per frame answered, µs. */
const cpuPerFrame = (runs: Run[]) =>
  median(runs.map((r) => r.server.cpuUs / Math.max(1, r.server.delivered)));

/** Bare-server rates of the plain DC-09 and the GB 26875 runs, baselines for (c). */
interface Baselines {
  dc09: number;
  gb26875: number;
}

async function throughput(): Promise<{ lines: string[]; bare: Baselines }> {
  const bare: Baselines = { dc09: Number.NaN, gb26875: Number.NaN };
  const lines = [
    `(a) frames acknowledged per second: ${CONNS} closed-loop connections on loopback, ${SECONDS} s per run after ${WARM_S} s warm-up, median of ${REPEAT} interleaved runs (each run listed)`,
  ];
  for (const sc of SCENARIOS) {
    const base: Run[] = [];
    const real: Run[] = [];
    for (let i = 0; i < REPEAT; i++) {
      base.push(await runOne(sc, true));
      real.push(await runOne(sc, false));
    }
    const b = rates(base);
    const r = rates(real);
    const rb = summary(base.flatMap((x) => x.load.rtt));
    const rr = summary(real.flatMap((x) => x.load.rtt));
    if (sc.protocol === 'gb26875') bare.gb26875 = b.median;
    else if (!sc.key) bare.dc09 = b.median;
    const sum = (f: (x: Run) => number) => real.reduce((n, x) => n + f(x), 0);
    const cb = cpuPerFrame(base);
    const cr = cpuPerFrame(real);
    const other: Record<string, number> = {};
    for (const x of real) for (const [k, v] of Object.entries(x.load.other)) other[k] = (other[k] ?? 0) + v;
    const others = Object.entries(other)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(
      `  ${sc.name}:`,
      `    bare ack server (baseline): ${fmt(b.median)} frames/s (${b.all})  rtt p50 ${ms(rb.p50)} p99 ${ms(rb.p99)}`,
      `    receiver:                   ${fmt(r.median)} frames/s (${r.all})  rtt p50 ${ms(rr.p50)} p99 ${ms(rr.p99)}  = ${(r.median / b.median).toFixed(2)}× baseline`,
      `    server CPU per frame: bare ${cb.toFixed(1)} µs, receiver ${cr.toFixed(1)} µs = ${(cr / cb).toFixed(1)}× (median of runs; the bare server's ${fmt(1e6 / cb)} vs the receiver's ${fmt(1e6 / cr)} frames per CPU-second)`,
      `    check: ${sum((x) => x.load.ackedTotal)} acknowledged, ${sum((x) => x.server.delivered)} sink deliveries, ${sum((x) => x.server.counters.duplicates ?? x.server.counters.DUPLICATE ?? 0)} duplicates${others ? `, not acknowledged: ${others}` : ''}`,
    );
  }
  return { lines, bare };
}

async function bareBrokerHop(n: number): Promise<number[]> {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'panels-sub' });
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'panels-pub' });
  await sub.subscribeAsync('bench/panels', { qos: 1 });
  const samples: number[] = [];
  let arrived: ((t: number) => void) | undefined;
  sub.on('message', () => arrived?.(performance.now()));
  for (let i = 0; i < n + 10; i++) {
    const got = new Promise<number>((r) => (arrived = r));
    const t0 = performance.now();
    await pub.publishAsync('bench/panels', JSON.stringify({ i, pad: 'x'.repeat(200) }), { qos: 1 });
    const t1 = await got;
    if (i >= 10) samples.push(t1 - t0);
    await sleep(2);
  }
  await pub.endAsync();
  await sub.endAsync();
  server.close();
  await new Promise<void>((r) => aedes.close(() => r()));
  return samples;
}

/** A sender of fire frames and their restores; `source` is the alert source it opens. */
interface FireSource {
  name: string;
  fire(i: number): Promise<{ ok: boolean; source: string }>;
  restore(i: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * (c) The gateway process as a whole: the same closed-loop load against its
 * receivers, whose sinks write to the outbox (fsync'd group commit) before
 * the ACK / confirm, and which forwards everything to the central. Events
 * that open no alert: DC-09 periodic tests, GB 26875 part "start" and its
 * restore. Ratios against the bare servers of (a).
 */
async function gatewayThroughput(dc09Port: number, gbPort: number, bare: Baselines): Promise<string[]> {
  const opts: LoadOptions = {
    port: dc09Port,
    connections: CONNS,
    warmSeconds: WARM_S,
    seconds: SECONDS,
    maxFrames: MAX_FRAMES,
  };
  const d = await dc09Load({ ...opts, accounts: ACCOUNTS, format: 'cid', events: 'test' });
  const g = await gb26875Load({ ...opts, port: gbPort, state: 'start', addressBase: 0x2000 });
  const line = (name: string, r: LoadResult, base: number) => {
    const x = summary(r.rtt);
    const other = Object.entries(r.other).map(([k, v]) => `${k} ${v}`);
    return `  ${name}: ${fmt(rate(r))} frames/s  rtt p50 ${ms(x.p50)} p99 ${ms(x.p99)}  = ${(rate(r) / base).toFixed(2)}× bare server${other.length ? `  (not acknowledged: ${other.join(', ')})` : ''}`;
  };
  return [
    `(c) frames acknowledged per second by the gateway process (outbox sink, fsync; forwarding to the central), ${CONNS} connections, ${SECONDS} s`,
    line('DC-09 ADM-CID plain, periodic tests', d, bare.dc09),
    line('GB/T 26875.3 part start/restore', g, bare.gb26875),
  ];
}

async function fullStack(bare: Baselines): Promise<string[]> {
  const dir = tempDir('cw-bench-panels-');
  const s = await setupSite(dir.path, {
    devices: ['btn-1'],
    heartbeatS: 5,
    extra: {
      dc09: {
        host: '127.0.0.1',
        tcpPort: 0,
        udpPort: null,
        accounts: [
          { account: '1234', label: '报警主机' },
          { account: '5678', key: AES128 },
          ...ACCOUNTS.map((account) => ({ account })),
        ],
      },
      gb26875: { host: '127.0.0.1', port: 0, devices: [{ address: 7, label: '用户信息传输装置' }] },
    },
  });
  const central = await startCentral(s);
  const gateway = await startGateway(s);
  const sources: FireSource[] = [];
  try {
    await gateway.waitFor(/connected to central/);
    const dc09Port = Number(gateway.output().match(/dc09=(\d+)/)?.[1]);
    const gbPort = Number(gateway.output().match(/gb26875=(\d+)/)?.[1]);
    const panel = (account: string, key?: string): FireSource => {
      const d = new Dc09Dialler({
        host: '127.0.0.1',
        port: dc09Port,
        proto: 'tcp',
        account,
        format: 'cid',
        ...(key ? { key } : {}),
      });
      const zone = (i: number) => 1 + (i % 8);
      return {
        name: `DC-09 Contact ID fire, ${key ? 'AES-128' : 'plain'}`,
        fire: async (i) => ({
          ok: (await d.sendEvent({ code: 'fire', zone: zone(i) })).type === 'ACK',
          source: `panel-${account}:${zone(i)}`,
        }),
        restore: async (i) =>
          (await d.sendEvent({ code: 'fire', qualifier: 'restore', zone: zone(i) })).type === 'ACK',
        close: () => d.close(),
      };
    };
    const dev = new Gb26875DeviceSim({ host: '127.0.0.1', port: gbPort, address: 7 });
    await dev.connect();
    const parts = ['3F-corridor', '2F-room-201', '1F-hall-button', '1F-kitchen'];
    const part = (i: number) => parts[i % parts.length] as string;
    sources.push(panel('1234'), panel('5678', AES128), {
      name: 'GB/T 26875.3 part fire',
      fire: async (i) => ({ ok: (await dev.fire(part(i))).confirmed, source: 'fire-7:' }),
      restore: async (i) => (await dev.restore(part(i))).confirmed,
      close: () => dev.close(),
    });

    const sup = await supervisorSocket(s.base, await login(s));
    await sup.next((m) => m.type === 'snapshot');
    const measure = async (src: FireSource, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        sup.messages.length = 0;
        const t0 = performance.now();
        const sent = src.fire(i);
        const opened = sup.next((m) => m.change === 'opened' && m.alert?.type === 'fire_alarm', 10_000);
        const { ok, source } = await sent;
        const alert = (await opened).alert;
        out.push(performance.now() - t0);
        if (!ok) throw new Error(`${src.name}: fire frame ${i} not acknowledged`);
        if (!alert?.source.startsWith(source)) throw new Error(`${src.name}: alert from ${alert?.source}`);
        const resolved = sup.next((m) => m.change === 'resolved' && m.alert?.id === alert.id, 10_000);
        if (!(await src.restore(i))) throw new Error(`${src.name}: restore ${i} not acknowledged`);
        await resolved;
        await sleep(5);
      }
      return out;
    };
    const results: Array<{ name: string; samples: number[] }> = [];
    for (const src of sources) {
      await measure(src, 5); // warm-up
      results.push({ name: src.name, samples: await measure(src, N) });
    }
    sup.close();
    const f = summary(await bareBrokerHop(N));
    const lines = [
      `(b) fire frame → 'opened' alert on a supervisor WebSocket (n=${N} each; central and gateway as separate processes, loopback)`,
      `  bare aedes hop (floor): p50 ${ms(f.p50)}  p99 ${ms(f.p99)}`,
    ];
    for (const r of results) {
      const x = summary(r.samples);
      lines.push(
        `  ${r.name}: p50 ${ms(x.p50)}  p99 ${ms(x.p99)}  max ${ms(x.max)}  (p50 ${(x.p50 / f.p50).toFixed(1)}× floor, p99 ${(x.p99 / f.p99).toFixed(1)}× floor)`,
      );
    }
    return [...lines, ...(await gatewayThroughput(dc09Port, gbPort, bare))];
  } finally {
    for (const src of sources) await src.close().catch(() => {});
    await gateway.kill();
    await central.kill();
    dir.cleanup();
  }
}

async function main(): Promise<void> {
  requireBuild();
  const started = performance.now();
  const a = await throughput();
  console.log(a.lines.join('\n'));
  console.log((await fullStack(a.bare)).join('\n'));
  const d = await dc09DedupCost(REMEMBERED);
  console.log(
    [
      `(d) DC-09 receiver, time per new frame (process(): parse, decode, dedup, sink, ACK) by messages remembered for replay detection, in-process, median of 5 rounds`,
      `  fresh receiver (< 1,024 remembered, baseline): ${d.freshUs.toFixed(0)} µs/frame (${fmt(1e6 / d.freshUs)} frames/s)`,
      `  ${fmt(d.remembered)} remembered: ${d.fullUs.toFixed(0)} µs/frame (${fmt(1e6 / d.fullUs)} frames/s) = ${(d.fullUs / d.freshUs).toFixed(1)}× the time`,
    ].join('\n'),
  );
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
