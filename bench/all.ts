/**
 * `npm run bench`: every benchmark once, at a small size, one after the other,
 * each in its own process with its own time bound (and the whole run bounded
 * by their sum). Each prints its own figures and same-run baselines; this
 * prints a last table of what ran, how long it took and how it ended, and
 * exits non-zero when one failed or overran.
 *
 * BENCH_ONLY=latency,backlog picks some; BENCH_SKIP=recording leaves some out.
 * Sizes can be raised with each benchmark's own environment variables, which
 * pass through (a variable set here only applies when the caller did not set it).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Bench {
  name: string;
  script: string;
  /** Small defaults; the caller's environment wins. */
  env: Record<string, string>;
  boundS: number;
}

const BENCHES: Bench[] = [
  { name: 'latency', script: 'latency.js', env: { BENCH_N: '200' }, boundS: 300 },
  {
    name: 'backlog',
    script: 'backlog.js',
    env: { BACKLOG_N: '20000', BACKLOG_DEADLINE_S: '300' },
    boundS: 420,
  },
  {
    name: 'panels',
    script: 'panels.js',
    env: { BENCH_PANELS_REPEAT: '1', BENCH_PANELS_N: '30' },
    boundS: 420,
  },
  { name: 'alerts', script: 'alerts.js', env: { BENCH_ALERTS_DEADLINE_S: '300' }, boundS: 360 },
  { name: 'ingest', script: 'ingest.js', env: {}, boundS: 600 },
  { name: 'store', script: 'store.js', env: { STORE_EVENTS: '20000' }, boundS: 120 },
  { name: 'recording', script: 'recording.js', env: {}, boundS: 600 },
  { name: 'soak', script: 'soak.js', env: { SOAK_MINUTES: '2', SOAK_DRAIN_S: '60' }, boundS: 480 },
  { name: 'fuzz', script: 'fuzz.js', env: { FUZZ_RUNS: '5000', FUZZ_SECONDS: '20' }, boundS: 600 },
];

export function pick(all: Bench[], only: string | undefined, skip: string | undefined): Bench[] {
  const list = (s: string | undefined) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const o = list(only);
  const k = list(skip);
  const unknown = [...o, ...k].filter((n) => !all.some((b) => b.name === n));
  if (unknown.length)
    throw new Error(
      `unknown benchmark ${unknown.join(', ')} in BENCH_ONLY/BENCH_SKIP (known: ${all.map((b) => b.name).join(', ')})`,
    );
  return all.filter((b) => (o.length === 0 || o.includes(b.name)) && !k.includes(b.name));
}

interface Outcome {
  name: string;
  seconds: number;
  result: string;
}

function runOne(b: Bench): Promise<Outcome> {
  const t0 = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(b.env)) if (env[k] === undefined) env[k] = v;
  const file = fileURLToPath(new URL(`./${b.script}`, import.meta.url));
  console.log(`\n=== bench ${b.name} (bound ${b.boundS} s) ===`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { env, stdio: 'inherit', detached: true });
    let overran = false;
    const timer = setTimeout(() => {
      overran = true;
      // the benchmark's own children too (a process group of its own)
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {}
      setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {}
      }, 10_000).unref();
    }, b.boundS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - t0) / 1000;
      const result = overran
        ? `over its ${b.boundS} s bound`
        : code === 0
          ? 'ok'
          : `failed (${signal ?? `exit ${code}`})`;
      resolve({ name: b.name, seconds, result });
    });
  });
}

async function main(): Promise<void> {
  const chosen = pick(BENCHES, process.env.BENCH_ONLY, process.env.BENCH_SKIP);
  const total = chosen.reduce((s, b) => s + b.boundS, 0);
  console.log(`bench: ${chosen.map((b) => b.name).join(', ')}; at most ${Math.round(total / 60)} min in all`);
  const out: Outcome[] = [];
  for (const b of chosen) out.push(await runOne(b));
  console.log('\n| benchmark | time | result |\n|---|---|---|');
  for (const o of out) console.log(`| ${o.name} | ${o.seconds.toFixed(0)} s | ${o.result} |`);
  if (out.some((o) => o.result !== 'ok')) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  });
}

export { BENCHES };
