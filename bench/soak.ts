/**
 * `npm run soak`: the whole system (a central and SOAK_SITES gateway
 * processes with simulated call buttons, badge readers and DC-09 panels) at a
 * steady SOAK_RATE events/s for SOAK_MINUTES, with a supervisor WebSocket
 * timing probe presses and a dashboard-like REST poller. Every SOAK_SAMPLE_S
 * it samples each process (RSS, heap, open descriptors, event-loop lag), the
 * event lag in the store and the probe latency; at the end it prints the
 * memory and descriptor growth after warm-up (the first 20 % excluded) and
 * checks that every acknowledged event was stored. Baseline in the same run:
 * the bare aedes hop (before and after). Samples go to SOAK_OUT.{json,csv}.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBuild, tempDir, until } from '../lib/testkit/procs.js';
import { bareBrokerHop } from './broker-hop.js';
import { SteadyLoad } from './soak-load.js';
import { Prober, RestReader } from './soak-probe.js';
import { type ProcSample, sampleProc } from './soak-procs.js';
import { printReport, type SoakRow } from './soak-report.js';
import { provisionSystem, startSystem } from './soak-sites.js';
import { StoreReader } from './soak-store.js';
import { summary } from './stats.js';

const env = process.env;
const MINUTES = Number(env.SOAK_MINUTES ?? 3);
const RATE = Number(env.SOAK_RATE ?? 50);
const SITES = Math.max(1, Number(env.SOAK_SITES ?? 3));
const SAMPLE_S = Number(env.SOAK_SAMPLE_S ?? Math.max(5, Math.round((MINUTES * 60) / 30)));
const PROBE_MS = Number(env.SOAK_PROBE_MS ?? 1000);
const REST_MS = Number(env.SOAK_REST_MS ?? 5000);
const FLOOR_N = Number(env.SOAK_FLOOR_N ?? 200);
const DRAIN_S = Number(env.SOAK_DRAIN_S ?? 120);
/** Share of the run, from its start, left out of the growth figures as warm-up (percent). */
const WARMUP_PCT = Math.min(90, Math.max(0, Number(env.SOAK_WARMUP_PCT ?? 20)));
const OUT = env.SOAK_OUT ?? join(tmpdir(), `carewatch-soak-${Date.now()}`);

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function login(base: string, password: string): Promise<string> {
  const r = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (!r.ok) throw new Error(`login failed: ${r.status}`);
  return ((await r.json()) as { token: string }).token;
}

async function main(): Promise<void> {
  requireBuild();
  // a hard bound on the whole run, whatever happens
  const bound = setTimeout(
    () => {
      console.error('soak: hard time bound reached, exiting');
      process.exit(2);
    },
    (MINUTES * 60 + DRAIN_S + 300) * 1000,
  );
  bound.unref();
  console.log(
    `soak: ${MINUTES} min, ${RATE} events/s over ${SITES} sites, samples every ${SAMPLE_S} s, probe every ${PROBE_MS} ms, REST every ${REST_MS} ms`,
  );
  const floorBefore = await bareBrokerHop(FLOOR_N);

  const dir = tempDir('cw-soak-');
  const sys = await provisionSystem(dir.path, SITES);
  const run = await startSystem(sys);
  const store = new StoreReader(sys.centralDir);
  const load = new SteadyLoad(sys.sites, RATE);
  let prober: Prober | undefined;
  let rest: RestReader | undefined;
  try {
    for (const s of sys.sites) {
      await until(async () => (await fetch(`http://127.0.0.1:${s.metricsPort}/readyz`)).ok, 60_000, 200);
    }
    const token = await login(sys.base, sys.adminPassword);
    prober = new Prober({
      base: sys.base,
      token,
      busPort: sys.sites[0]!.busPort,
      siteId: sys.sites[0]!.siteId,
      everyMs: PROBE_MS,
    });
    await prober.start();
    rest = new RestReader({ base: sys.base, token, everyMs: REST_MS });

    const procs = [
      { name: 'central', pid: run.central.child.pid!, url: `${sys.base}/metrics` },
      ...sys.sites.map((s, i) => ({
        name: `gw${i + 1}`,
        pid: run.gateways[i]!.child.pid!,
        url: `http://127.0.0.1:${s.metricsPort}/metrics`,
      })),
    ];
    const sampleAll = async () => {
      const out: Record<string, ProcSample> = {};
      for (const p of procs) out[p.name] = await sampleProc(p.pid, p.url);
      return out;
    };

    store.newLags(); // skip the rows written during start-up
    await sampleAll(); // resets the loop-lag histograms
    await load.start();
    prober.run();
    rest.start();
    const t0 = performance.now();
    const end = t0 + MINUTES * 60_000;
    const rows: SoakRow[] = [];
    let last = t0;
    while (performance.now() < end) {
      await sleep(Math.min(SAMPLE_S * 1000, Math.max(0, end - performance.now())));
      const now = performance.now();
      const procSamples = await sampleAll();
      const { rows: stored, lags } = store.newLags();
      const lag = summary(lags);
      const probe = summary(prober.take());
      const reads = summary(rest.take());
      rows.push({
        t: Math.round((now - t0) / 1000),
        procs: procSamples,
        storedPerS: stored / ((now - last) / 1000),
        lagP50: lag.p50,
        lagP99: lag.p99,
        probeN: probe.n,
        probeP50: probe.p50,
        probeP99: probe.p99,
        restP50: reads.p50,
        restP99: reads.p99,
      });
      last = now;
      printReport.row(
        rows.at(-1)!,
        procs.map((p) => p.name),
      );
    }
    const loadSeconds = (performance.now() - t0) / 1000;
    rest.stop();
    await prober.stop();
    await load.stop();

    // drain: everything acknowledged must reach the store
    const sent = { ...load.sent, emergency_call: load.sent.emergency_call + prober.sent };
    const drainStart = performance.now();
    let stored = store.counts();
    while (
      performance.now() - drainStart < DRAIN_S * 1000 &&
      (stored.emergency_call < sent.emergency_call ||
        stored.attendance < sent.attendance ||
        stored.panel_alarm < sent.panel_alarm)
    ) {
      await sleep(1000);
      stored = store.counts();
    }
    const drainS = (performance.now() - drainStart) / 1000;
    const duplicates = store.duplicates();
    store.close();
    await run.stop();
    const floorAfter = await bareBrokerHop(FLOOR_N);

    const result = printReport.verdict({
      config: {
        minutes: MINUTES,
        rate: RATE,
        sites: SITES,
        sampleS: SAMPLE_S,
        probeMs: PROBE_MS,
        restMs: REST_MS,
        warmupPct: WARMUP_PCT,
      },
      rows,
      procNames: procs.map((p) => p.name),
      totalS: loadSeconds,
      floorBefore: summary(floorBefore),
      floorAfter: summary(floorAfter),
      sent,
      stored,
      duplicates,
      drainS,
      probeTimeouts: prober.timeouts,
      restErrors: rest.errors,
      restReads: rest.reads,
      wsMessages: prober.wsMessages,
    });
    writeFileSync(`${OUT}.json`, JSON.stringify(result.json, null, 2));
    writeFileSync(`${OUT}.csv`, result.csv);
    console.log(`samples written to ${OUT}.json and ${OUT}.csv`);
  } finally {
    rest?.stop();
    store.close();
    await run.stop();
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
