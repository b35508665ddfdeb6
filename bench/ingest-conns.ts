/**
 * Part (b) of `bench:ingest`: how many simulated gateways one embedded
 * central holds, and what each connection costs in the central's memory.
 * Every connection is a provisioned gateway that authenticates with its own
 * secret and stays up with MQTT keepalive (PINGREQ/PINGRESP) for a hold
 * period longer than 1.5 keepalives (aedes drops a silent client after
 * that). Source addresses rotate over 127.0.0.2-127.0.0.9 so ephemeral ports
 * do not run short.
 */
import { join } from 'node:path';
import { randomSecret } from '../lib/passwords.js';
import { benchGateways } from './ingest-load.js';
import { provisionMany, rssOf, startCentralProc } from './ingest-setup.js';
import { type LiteConnection, liteConnect } from './mqtt-lite.js';

export interface ConnResult {
  requested: number;
  provisionSeconds: number;
  /** Central process start until `central ready`, with every gateway provisioned. */
  startSeconds: number;
  connected: number;
  failed: number;
  firstError: string | undefined;
  connectSeconds: number;
  rssBefore: number;
  rssAfter: number;
  rssAfterHold: number;
  brokerCount: number | undefined;
  aliveAfterHold: number;
  /** Fewest PINGRESPs any live connection got during the run (keepalive really exercised). */
  minPongs: number;
  holdSeconds: number;
  prodSample: { n: number; provisionSeconds: number; connectSeconds: number; connected: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectAll(
  port: number,
  gws: Array<{ gatewayId: string; password: string }>,
  concurrency: number,
  keepaliveS: number,
  deadline: number,
  out: LiteConnection[],
): Promise<{ failed: number; firstError: string | undefined }> {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < gws.length && Date.now() < deadline) {
      const i = next++;
      const g = gws[i]!;
      try {
        out.push(
          await liteConnect({
            host: '127.0.0.1',
            port,
            localAddress: `127.0.0.${2 + (i % 8)}`,
            clientId: g.gatewayId,
            username: g.gatewayId,
            password: g.password,
            keepaliveS,
          }),
        );
      } catch (err) {
        failed++;
        firstError ??= String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { failed, firstError };
}

async function brokerClients(httpPort: number): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const m = text.match(/^carewatch_mqtt_clients(?:\{[^}]*\})? (\d+)/m);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function connectionScale(o: {
  dir: string;
  count: number;
  light: boolean;
  concurrency: number;
  keepaliveS: number;
  holdS: number;
  prodSample: number;
  deadlineMs: number;
  log: (line: string) => void;
}): Promise<ConnResult> {
  const dataDir = join(o.dir, 'conns');
  const gws = benchGateways(o.count, () => randomSecret(18));
  const prod = benchGateways(o.prodSample, () => randomSecret(18)).map((g) => ({
    ...g,
    gatewayId: g.gatewayId.replace('gw-bench', 'gw-prod'),
    siteId: g.siteId.replace('bench-site', 'prod-site'),
  }));
  let t = performance.now();
  let lastLog = Date.now();
  await provisionMany({ dataDir }, gws, {
    light: o.light,
    batch: 32,
    progress: (done) => {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        o.log(`  provisioned ${done}/${gws.length}`);
      }
    },
  });
  const provisionSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  await provisionMany({ dataDir }, prod, { light: false, batch: 8 });
  const prodProvisionSeconds = (performance.now() - t) / 1000;

  t = performance.now();
  const central = await startCentralProc(o.dir, 'central-conns', { dataDir }, {}, 600_000);
  const startSeconds = (performance.now() - t) / 1000;
  const conns: LiteConnection[] = [];
  try {
    await sleep(2000);
    const rssBefore = rssOf(central.pid);
    const deadline = Date.now() + o.deadlineMs;
    t = performance.now();
    const { failed, firstError } = await connectAll(
      central.mqttPort,
      gws,
      o.concurrency,
      o.keepaliveS,
      deadline,
      conns,
    );
    const connectSeconds = (performance.now() - t) / 1000;
    await sleep(3000);
    const rssAfter = rssOf(central.pid);
    const brokerCount = await brokerClients(central.httpPort);
    o.log(`  ${conns.length} connected in ${connectSeconds.toFixed(1)} s; holding ${o.holdS} s`);
    const holdStart = performance.now();
    await sleep(o.holdS * 1000);
    const holdSeconds = (performance.now() - holdStart) / 1000;
    const aliveAfterHold = conns.filter((c) => c.alive()).length;
    const minPongs = conns
      .filter((c) => c.alive())
      .reduce((m, c) => Math.min(m, c.pongs()), Number.POSITIVE_INFINITY);
    const rssAfterHold = rssOf(central.pid);

    // the production scrypt cost per login, on a small sample, after the memory figures
    const prodConns: LiteConnection[] = [];
    t = performance.now();
    await connectAll(
      central.mqttPort,
      prod,
      Math.min(o.concurrency, 8),
      o.keepaliveS,
      deadline + 60_000,
      prodConns,
    );
    const prodConnectSeconds = (performance.now() - t) / 1000;
    for (const c of prodConns) c.close();
    return {
      requested: o.count,
      provisionSeconds,
      startSeconds,
      connected: conns.length,
      failed,
      firstError,
      connectSeconds,
      rssBefore,
      rssAfter,
      rssAfterHold,
      brokerCount,
      aliveAfterHold,
      minPongs,
      holdSeconds,
      prodSample: {
        n: prod.length,
        provisionSeconds: prodProvisionSeconds,
        connectSeconds: prodConnectSeconds,
        connected: prodConns.length,
      },
    };
  } finally {
    for (const c of conns) c.close();
    await central.stop();
  }
}
