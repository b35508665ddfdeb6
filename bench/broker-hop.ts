/**
 * The floor that the end-to-end latencies are compared with: one QoS 1
 * publish → subscribe hop through a plain aedes broker with no hooks, on
 * loopback, one message at a time (the same method as bench/latency.ts).
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { freePort } from '../lib/testkit/procs.js';

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** Returns `n` hop times in ms (after 20 unrecorded warm-up hops). */
export async function bareBrokerHop(n: number): Promise<number[]> {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'soak-floor-sub' });
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'soak-floor-pub' });
  try {
    await sub.subscribeAsync('soak/hop', { qos: 1 });
    const samples: number[] = [];
    let pending: ((t: number) => void) | undefined;
    sub.on('message', () => pending?.(performance.now()));
    for (let i = 0; i < n + 20; i++) {
      const got = new Promise<number>((r) => (pending = r));
      const t0 = performance.now();
      await pub.publishAsync('soak/hop', JSON.stringify({ i, pad: 'x'.repeat(200) }), { qos: 1 });
      const t1 = await got;
      if (i >= 20) samples.push(t1 - t0);
      await sleep(2);
    }
    return samples;
  } finally {
    await pub.endAsync();
    await sub.endAsync();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
  }
}
