/**
 * Backlog drain at scale: the gateway's outbox holds BACKLOG_N routine events
 * (default 1,000,000, written directly with batched transactions, as if the
 * central had been unreachable for a long time). The central comes back;
 * the bench times the drain and, at 10 %, 50 % and 90 % of it, presses an
 * emergency call and times it to the supervisor WebSocket. Stops after
 * BACKLOG_DEADLINE_S (default 600) whatever the state, and reports.
 *
 *   npx tsc -p tsconfig.build.json && BACKLOG_N=1000000 node dist/bench/backlog.js
 *
 * BACKLOG_INFLIGHT (default 64) sets the gateway's QoS 1 window.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  BACKLOG_KIND,
  Button,
  CentralDbView,
  faultSite,
  fillOutbox,
  line,
  sleep,
  tally,
} from '../lib/testkit/faults.js';
import { requireBuild } from '../lib/testkit/procs.js';
import { supervisorSocket } from '../lib/testkit/ws.js';

const N = Number(process.env.BACKLOG_N ?? 1_000_000);
const DEADLINE_S = Number(process.env.BACKLOG_DEADLINE_S ?? 600);
/** The gateway's QoS 1 window (`central.inflight`); the central commits what is in flight together. */
const INFLIGHT = Number(process.env.BACKLOG_INFLIGHT ?? 64);
const DEVICES = Array.from({ length: 10 }, (_, i) => `att-${i + 1}`);
const MARKS = [0.1, 0.5, 0.9];
const LIVE = MARKS.map((_, i) => `live-${i + 1}`);
/** Same-run baseline: calls pressed at rest (empty outbox) before the backlog is made. */
const REST = Array.from({ length: Number(process.env.BACKLOG_REST_N ?? 9) }, (_, i) => `rest-${i + 1}`);

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function main(): Promise<void> {
  requireBuild();
  const deadline = Date.now() + DEADLINE_S * 1000;
  const site = await faultSite('bench-backlog', {
    devices: [...LIVE, ...REST, ...DEVICES],
    heartbeatS: 5,
    inflight: INFLIGHT,
  });
  console.log(`gateway window: ${INFLIGHT} QoS 1 publishes in flight`);
  try {
    await site.gateway!.waitFor(/connected to central/);
    await sleep(500);
    const restMs: number[] = [];
    {
      const sup0 = await supervisorSocket(site.s.base, await site.token());
      await sup0.next((m) => m.type === 'snapshot');
      const b0 = new Button(site.s.busPort);
      for (const dev of REST) {
        const t0 = performance.now();
        await b0.press(dev, 'single');
        await sup0.next((m) => m.change === 'opened' && m.alert?.source === dev, 60_000);
        restMs.push(performance.now() - t0);
      }
      sup0.close();
      await b0.close();
    }
    const restMedian = [...restMs].sort((a, b) => a - b)[Math.floor(restMs.length / 2)] ?? Number.NaN;
    console.log(
      `baseline: a call at rest (empty outbox) on the WebSocket after ${restMedian.toFixed(0)} ms (median of ${restMs.length})`,
    );
    await site.central!.kill('SIGTERM');
    await site.gateway!.kill('SIGTERM');

    let t = Date.now();
    let lastPrint = t;
    await fillOutbox(site.gatewayDir, site.siteId, DEVICES, N, 10_000, (done) => {
      if (Date.now() - lastPrint > 10_000) {
        lastPrint = Date.now();
        console.log(`  filling: ${done}/${N}`);
      }
    });
    const fillMs = Date.now() - t;
    const outboxBytes = statSync(join(site.gatewayDir, 'gateway.db')).size;
    console.log(
      `backlog: ${N} ${BACKLOG_KIND} events written to the outbox in ${(fillMs / 1000).toFixed(1)} s ` +
        `(${((N / fillMs) * 1000).toFixed(0)}/s), file ${mb(outboxBytes)}`,
    );

    site.proxy.cut();
    t = Date.now();
    await site.startGateway();
    console.log(`gateway restart with the backlog: ${Date.now() - t} ms`);
    await site.startCentral();
    const sup = await supervisorSocket(site.s.base, await site.token());
    await sup.next((m) => m.type === 'snapshot');
    const view = new CentralDbView(site.s.centralDir);
    const button = new Button(site.s.busPort);

    site.proxy.restore();
    const drainStart = Date.now();
    const stored = () => view.count(BACKLOG_KIND);
    const results: string[] = [];
    let lastCount = 0;
    lastPrint = Date.now();
    let mark = 0;
    let n = 0;
    while (Date.now() < deadline) {
      n = stored();
      if (mark < MARKS.length && n >= N * MARKS[mark]!) {
        const dev = LIVE[mark]!;
        const at = n;
        const t0 = performance.now();
        await button.press(dev, 'single');
        await sup.next((m) => m.change === 'opened' && m.alert?.source === dev, 120_000);
        const ms = performance.now() - t0;
        const waiting = N - stored();
        results.push(
          `live alarm at ${(MARKS[mark]! * 100).toFixed(0)} % (${at} stored): on the WebSocket after ${ms.toFixed(0)} ms ` +
            `(${(ms / restMedian).toFixed(1)}× the call at rest), ${waiting} backlog events still waiting`,
        );
        console.log(`  ${results.at(-1)}`);
        mark++;
        continue;
      }
      if (n >= N) break;
      if (Date.now() - lastPrint >= 10_000) {
        const rate = ((n - lastCount) / (Date.now() - lastPrint)) * 1000;
        console.log(`  draining: ${n}/${N} stored, ${rate.toFixed(0)}/s`);
        lastPrint = Date.now();
        lastCount = n;
      }
      await sleep(200);
    }
    const drainMs = Date.now() - drainStart;
    n = stored();
    console.log(
      `drain: ${n}/${N} stored in ${(drainMs / 1000).toFixed(1)} s (${((n / drainMs) * 1000).toFixed(0)} events/s)` +
        (n < N ? ` - stopped at the ${DEADLINE_S} s deadline` : ''),
    );
    for (const r of results) console.log(r);
    if (n >= N) {
      await sleep(1000);
      const perDevice = Object.fromEntries(DEVICES.map((d, i) => [d, Math.ceil((N - i) / DEVICES.length)]));
      console.log(line('bench-backlog', tally(view.events(BACKLOG_KIND), { sent: perDevice, unacked: {} })));
    }
    sup.close();
    view.close();
    await button.close();
  } finally {
    await site.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
