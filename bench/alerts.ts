/**
 * `npm run bench:alerts`:
 * (a) rule evaluation and alert updates per second: the AlertService
 *     in-process on a real SQLite store, against the bare store insert of
 *     the same events (bench/alerts-rules.ts);
 * (b) WebSocket fan-out latency to BENCH_WS_CLIENTS (default 1,000) logged-in
 *     supervisors of a real central process, against a bare `ws` server
 *     broadcasting the same message to the same number of clients
 *     (bench/alerts-fanout.ts).
 *
 * Knobs: BENCH_ALERTS_PART (a | b | all, default all), BENCH_ALERTS_EVENTS
 * (events per stream in (a), default 1000), BENCH_ALERTS_BATCH (events per
 * group commit, default 100), BENCH_WS_CLIENTS (default 1000),
 * BENCH_WS_ALERTS (alerts in (b), each opened, acknowledged and resolved;
 * default 20), BENCH_ALERTS_DEADLINE_S (whole run, default 300).
 */
import { benchFanout, type FanoutFigures, type LatencyRow } from './alerts-fanout.js';
import { benchRules, type RuleFigures } from './alerts-rules.js';
import { ms } from './stats.js';

const PART = process.env.BENCH_ALERTS_PART ?? 'all';
const EVENTS = Number(process.env.BENCH_ALERTS_EVENTS ?? 1000);
const BATCH = Number(process.env.BENCH_ALERTS_BATCH ?? 100);
const CLIENTS = Number(process.env.BENCH_WS_CLIENTS ?? 1000);
const ALERTS = Number(process.env.BENCH_WS_ALERTS ?? 20);
const DEADLINE_S = Number(process.env.BENCH_ALERTS_DEADLINE_S ?? 300);

const int = (x: number) => Math.round(x).toLocaleString('en-US');

function printRules(rows: RuleFigures[]): void {
  console.log(
    `\n(a) rule evaluation and alert updates (${EVENTS} events per stream, group commits of ${BATCH}; SQLite WAL, synchronous=FULL)`,
  );
  console.log(
    '| stream | events | bare insert, group commit (baseline) events/s | persist + alerts events/s | ratio | alert step alone events/s | alert updates/s | bare insert, one commit per event, events/s | alert step ÷ that | alert step CPU µs/event |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.scenario} | ${r.events} | ${int(r.baselineEventsPerS)} | ${int(r.eventsPerS)} | ${(r.eventsPerS / r.baselineEventsPerS).toFixed(3)}× | ${int(r.alertStepEventsPerS)} | ${int(r.alertUpdatesPerS)} | ${int(r.perEventCommitEventsPerS)} | ${(r.alertStepEventsPerS / r.perEventCommitEventsPerS).toFixed(2)}× | ${int(r.alertStepCpuUsPerEvent)} |`,
    );
  }
}

function latencyLine(r: LatencyRow, base: LatencyRow | undefined): string {
  const ratio = (a: number, b: number | undefined) => (b ? ` (${(a / b).toFixed(1)}×)` : '');
  return `| ${r.label} | ${r.broadcasts} | ${r.deliveries} | ${r.missing} | ${ms(r.all.p50)}${ratio(r.all.p50, base?.all.p50)} | ${ms(r.all.p99)}${ratio(r.all.p99, base?.all.p99)} | ${ms(r.all.max)} | ${ms(r.first.p50)} | ${ms(r.last.p50)}${ratio(r.last.p50, base?.last.p50)} | ${ms(r.last.max)} | ${ms(r.spread.p50)}${ratio(r.spread.p50, base?.spread.p50)} |`;
}

function printFanout(f: FanoutFigures): void {
  console.log(
    `\n(b) WebSocket fan-out to ${f.clients} connected supervisors (${f.users} users, one session each, shared by the clients; alert messages of ${f.messageBytes} bytes on average); times from the trigger, taken in the bench process`,
  );
  console.log(
    '| trigger | broadcasts | deliveries | missing | p50 | p99 | max | first client p50 | last client p50 | last client max | spread (last − first) p50 |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  console.log(latencyLine(f.baseline, undefined));
  for (const r of f.central) console.log(latencyLine(r, f.baseline));
  console.log(
    `connect ${f.clients} clients: central ${ms(f.connectMs.central)}, bare ws ${ms(f.connectMs.baseline)}`,
  );
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`bench:alerts: over the ${DEADLINE_S} s bound, giving up`);
    process.exit(3);
  }, DEADLINE_S * 1000);
  deadline.unref();
  console.log(`bench:alerts on ${new Date().toISOString()}, part ${PART}`);
  if (PART === 'a' || PART === 'all') printRules(await benchRules({ events: EVENTS, batch: BATCH }));
  if (PART === 'b' || PART === 'all') printFanout(await benchFanout({ clients: CLIENTS, alerts: ALERTS }));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
