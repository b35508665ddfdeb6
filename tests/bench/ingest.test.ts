import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionScale } from '../../bench/ingest-conns.js';
import { benchGateways, runLoad, sqliteCounter } from '../../bench/ingest-load.js';
import { lightHash, provisionMany, startCentralProc } from '../../bench/ingest-setup.js';
import { throughputParts } from '../../bench/ingest-throughput.js';
import { liteConnect } from '../../bench/mqtt-lite.js';
import { randomSecret, verifyPassword } from '../../lib/passwords.js';
import { haveMosquitto } from '../../lib/testkit/mosquitto.js';
import { postgresUnavailable } from '../../lib/testkit/postgres.js';
import { requireBuild, tempDir } from '../helpers/procs.js';

describe('bench/mqtt-lite against aedes with authentication', () => {
  let aedes: Aedes;
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    aedes = await Aedes.createBroker({
      authenticate: (_client, username, password, done) => {
        const ok = username === 'gw-1' && password?.toString() === 'secret-secret';
        done(ok ? null : (Object.assign(new Error('bad'), { returnCode: 4 }) as never), ok);
      },
    });
    server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.close();
    await new Promise<void>((r) => aedes.close(() => r()));
  });

  it('connects with a user name and password, from another loopback address, and keeps alive', async () => {
    const c = await liteConnect({
      host: '127.0.0.1',
      port,
      localAddress: '127.0.0.3',
      clientId: 'gw-1',
      username: 'gw-1',
      password: 'secret-secret',
      keepaliveS: 1,
    });
    // aedes drops a client silent for 1.5 keepalives; the PINGREQs keep this one
    await new Promise((r) => setTimeout(r, 2200));
    expect(c.alive()).toBe(true);
    expect(c.pongs()).toBeGreaterThanOrEqual(3);
    expect(aedes.connectedClients).toBe(1);
    c.close();
  });

  it('rejects on a refused CONNACK', async () => {
    await expect(
      liteConnect({
        host: '127.0.0.1',
        port,
        clientId: 'gw-1',
        username: 'gw-1',
        password: 'wrong-wrong',
        keepaliveS: 5,
      }),
    ).rejects.toThrow(/CONNACK return code 4/);
  });
});

describe('bench:ingest parts at a tiny size, real central processes', () => {
  const dir = tempDir('cw-test-bench-ingest-');
  afterAll(() => dir.cleanup());

  it('light hashes are the production hashes of generated secrets', async () => {
    const secret = randomSecret(18);
    const h = await lightHash(secret);
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword(secret, h)).toBe(true);
    expect(await verifyPassword(randomSecret(18), h)).toBe(false);
  });

  it('(a) counts every published event as a row in the embedded central store', async () => {
    requireBuild();
    const dataDir = join(dir.path, 'a');
    const gws = benchGateways(3, () => randomSecret(18));
    await provisionMany({ dataDir }, gws, { light: true });
    const central = await startCentralProc(dir.path, 'central-a', { dataDir });
    try {
      const counter = sqliteCounter(join(dataDir, 'central.db'));
      const r = await runLoad({
        url: `mqtt://127.0.0.1:${central.mqttPort}`,
        gateways: gws,
        perGateway: 40,
        window: 8,
        counter,
        deadlineMs: 30_000,
      });
      expect(await counter.read()).toBe(120);
      await counter.close();
      expect(r).toMatchObject({ sent: 120, acked: 120, arrived: 120, complete: true });
      expect(r.rate).toBeGreaterThan(0);
    } finally {
      await central.stop();
    }
  }, 60_000);

  it('(b) holds provisioned connections with keepalive and measures the central', async () => {
    requireBuild();
    const r = await connectionScale({
      dir: join(dir.path, 'b'),
      count: 12,
      light: true,
      concurrency: 4,
      keepaliveS: 1,
      holdS: 2,
      prodSample: 1,
      deadlineMs: 30_000,
      log: () => undefined,
    });
    expect(r).toMatchObject({ requested: 12, connected: 12, failed: 0, aliveAfterHold: 12, brokerCount: 12 });
    expect(r.minPongs).toBeGreaterThanOrEqual(2);
    expect(r.rssBefore).toBeGreaterThan(0);
    expect(r.prodSample.connected).toBe(1);
  }, 90_000);

  it('(a) both throughput parts store every event and report ratios against their baselines', async () => {
    requireBuild();
    expect(haveMosquitto(), 'mosquitto is installed by .ci/run').toBe(true);
    expect(postgresUnavailable()).toBeNull();
    const lines: string[] = [];
    const parts = throughputParts({
      perGateway: 25,
      window: 8,
      warmup: 20,
      deadlineMs: 60_000,
      log: (l) => lines.push(l),
    });
    const gws = benchGateways(2, (i) => `bench-secret-${i}-yyyy`);
    const e = await parts.embeddedPart(join(dir.path, 'e'), gws);
    const x = await parts.externalPart(join(dir.path, 'e'), gws);
    for (const r of [e.central, x.one, x.two]) {
      expect(r).toMatchObject({ sent: 50, acked: 50, arrived: 50, complete: true });
      expect(r.cpuMs).toBeGreaterThan(0);
      expect(r.clientCpuMs).toBeGreaterThan(0);
    }
    // a share of a core from 1/100 s clock ticks: at this size only its presence can be checked
    expect(e.central.mainBusy).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(e.central.mainBusy)).toBe(true);
    expect(e.baseline).toBeGreaterThan(0);
    expect(x.baseline).toBeGreaterThan(0);
    expect(parts.rows).toHaveLength(6);
    expect(parts.rows.filter((r) => r.includes('rows in PostgreSQL'))).toHaveLength(2);
  }, 180_000);
});
