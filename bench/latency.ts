/**
 * `npm run bench:latency`: button press on the gateway's local bus → alert on
 * a supervisor WebSocket, through real processes (central, gateway) on
 * loopback; at rest and under background event load. The floor, measured in
 * the same run: the bare broker hop (QoS 1 publish → subscribe) on a plain
 * aedes with no hooks.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { freePort, requireBuild, tempDir } from '../lib/testkit/procs.js';
import { login, setupSite, startCentral, startGateway } from '../lib/testkit/site.js';
import { supervisorSocket } from '../lib/testkit/ws.js';
import { ms, summary } from './stats.js';

const N = Number(process.env.BENCH_N ?? 300);
const LOAD_RATE = Number(process.env.BENCH_LOAD_RATE ?? 500); // background events per second
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function bareBrokerHop(n: number): Promise<number[]> {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'bench-sub' });
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'bench-pub' });
  await sub.subscribeAsync('bench/hop', { qos: 1 });
  const samples: number[] = [];
  let pending: ((t: number) => void) | undefined;
  sub.on('message', () => pending?.(performance.now()));
  for (let i = 0; i < n + 20; i++) {
    const t0 = performance.now();
    const got = new Promise<number>((r) => (pending = r));
    await pub.publishAsync('bench/hop', JSON.stringify({ i, pad: 'x'.repeat(200) }), { qos: 1 });
    const t1 = await got;
    if (i >= 20) samples.push(t1 - t0);
    await sleep(2);
  }
  await pub.endAsync();
  await sub.endAsync();
  server.close();
  await new Promise<void>((r) => aedes.close(() => r()));
  return samples;
}

async function main(): Promise<void> {
  requireBuild();
  const dir = tempDir('cw-bench-lat-');
  const devices = ['btn-1', 'btn-2', ...Array.from({ length: 20 }, (_, i) => `load-${i}`)];
  const s = await setupSite(dir.path, { devices, heartbeatS: 5 });
  const central = await startCentral(s);
  const gateway = await startGateway(s);
  await gateway.waitFor(/connected to central/);
  try {
    const token = await login(s);
    const sup = await supervisorSocket(s.base, token);
    await sup.next((m) => m.type === 'snapshot');
    const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, { clientId: 'bench-button' });

    const measure = async (n: number): Promise<number[]> => {
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const d = i % 2 ? 'btn-1' : 'btn-2';
        const t0 = performance.now();
        const opened = sup.next((m) => m.change === 'opened' && m.alert?.source === d, 10_000);
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'single' }), { qos: 1 });
        await opened;
        samples.push(performance.now() - t0);
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'double' }), { qos: 1 });
        await sup.next((m) => m.change === 'resolved' && m.alert?.source === d, 10_000);
        sup.messages.length = 0;
        await sleep(5);
      }
      return samples;
    };

    await measure(20); // warm-up
    const rest = await measure(N);

    // background load: other buttons pressing and cancelling at LOAD_RATE events/s
    const loader = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, { clientId: 'bench-load' });
    let loadSent = 0;
    let loading = true;
    const loadLoop = (async () => {
      const start = performance.now();
      while (loading) {
        const due = Math.floor(((performance.now() - start) / 1000) * LOAD_RATE);
        while (loadSent < due && loading) {
          const d = `load-${loadSent % 20}`;
          loader.publish(
            `zigbee2mqtt/${d}`,
            JSON.stringify({ action: Math.floor(loadSent / 20) % 2 ? 'double' : 'single' }),
            { qos: 1 },
          );
          loadSent++;
        }
        await sleep(5);
      }
    })();
    const t0 = performance.now();
    const loaded = await measure(N);
    const loadSeconds = (performance.now() - t0) / 1000;
    loading = false;
    await loadLoop;
    await loader.endAsync();
    await dev.endAsync();
    sup.close();

    const floor = await bareBrokerHop(N);
    const r = summary(rest);
    const l = summary(loaded);
    const f = summary(floor);
    const lines = [
      `button → supervisor WebSocket latency (n=${N} each; loopback; central and gateway as separate processes)`,
      `  bare aedes hop (floor):   p50 ${ms(f.p50)}  p99 ${ms(f.p99)}`,
      `  at rest:                  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}  max ${ms(r.max)}  (p50 ${(r.p50 / f.p50).toFixed(1)}× floor, p99 ${(r.p99 / f.p99).toFixed(1)}× floor)`,
      `  with ${(loadSent / loadSeconds).toFixed(0)} background events/s: p50 ${ms(l.p50)}  p99 ${ms(l.p99)}  max ${ms(l.max)}  (p50 ${(l.p50 / f.p50).toFixed(1)}× floor, p99 ${(l.p99 / f.p99).toFixed(1)}× floor)`,
      `  target p99 at rest ≤ 50 ms: ${r.p99 <= 50 ? 'met' : 'NOT met'}`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await gateway.kill();
    await central.kill();
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
