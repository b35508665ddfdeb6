import { createServer, type Server } from 'node:http';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';
import { freePort, type Proc, until } from '../helpers/procs.js';
import { startGateway } from '../helpers/site.js';

/**
 * Two central instances on Mosquitto and one PostgreSQL notification log;
 * the dispatch endpoint is down while alerts open, so their notifications
 * stay pending with the instance that claimed them; that instance is killed
 * with SIGKILL and never comes back. The survivor adopts them once the dead
 * instance's lease lapses: every notification arrives, each exactly once.
 */
describe('pending notifications of an instance that is gone for good', () => {
  let cluster: Cluster | undefined;
  let hook: Server | undefined;
  afterAll(async () => {
    hook?.close();
    await cluster?.stop();
  });

  it('are adopted and sent by a live instance after the lease, none twice', async () => {
    // the dispatch endpoint: 503 while `up` is false; counts what it accepted per dedup key
    let up = false;
    const accepted = new Map<string, number>();
    let refused = 0;
    const hookPort = await freePort();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (!up) {
          refused++;
          res.writeHead(503).end('down');
          return;
        }
        const msg = JSON.parse(body) as { notifications: Array<{ dedupKey: string }> };
        for (const n of msg.notifications) accepted.set(n.dedupKey, (accepted.get(n.dedupKey) ?? 0) + 1);
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => hook!.listen(hookPort, '127.0.0.1', () => r()));

    const devices = Array.from({ length: 8 }, (_, i) => `btn-${i + 1}`);
    cluster = await Cluster.start('cw-takeover-', devices);
    const { site: s, procs, pgUrl: url } = cluster;

    const instances: Proc[] = [];
    for (const i of [0, 1]) {
      const cfg = await cluster.config(i, {
        extra: {
          notify: {
            channels: [{ type: 'webhook', name: 'dispatch', url: `http://127.0.0.1:${hookPort}/hook` }],
            routes: [{ channels: ['dispatch'], types: ['emergency_call'], changes: ['opened'] }],
            grouping: { neverGroup: ['critical'] },
            retry: { maxAttempts: 20, baseDelayMs: 200, maxDelayMs: 1000, jitter: 0 },
            lease: { renewS: 0.5, expireS: 2 },
          },
        },
      });
      const p = cluster.central(cfg);
      instances.push(p);
      await p.waitFor(/central ready/);
    }
    const gw = await startGateway(s);
    procs.push(gw);
    await gw.waitFor(/connected to central/);

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, { clientId: 'buttons' });
      for (const d of devices) {
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'single' }), { qos: 1 });
      }
      await dev.endAsync();

      // every call claimed by one instance or the other, none delivered (the endpoint refuses)
      const owners = await until(async () => {
        const r = await db.query<{ owner: string; status: string; n: number }>(
          'SELECT owner, status, count(*)::int AS n FROM notifications GROUP BY owner, status',
        );
        const pending = r.rows.filter((x) => x.status === 'pending');
        return pending.reduce((n, x) => n + x.n, 0) === devices.length ? pending : undefined;
      }, 60_000);
      await until(async () => refused >= devices.length, 30_000);
      const victim = [...owners].sort((a, b) => b.n - a.n)[0]!;
      const victimIndex = victim.owner === 'central-0' ? 0 : 1;
      const survivor = `central-${1 - victimIndex}`;
      await instances[victimIndex]!.kill('SIGKILL');
      up = true;

      const rows = await until(async () => {
        const r = await db.query<{ dedup_key: string; status: string; owner: string }>(
          'SELECT dedup_key, status, owner FROM notifications',
        );
        return r.rows.length === devices.length && r.rows.every((x) => x.status === 'delivered')
          ? r.rows
          : undefined;
      }, 60_000).catch((err) => {
        throw new Error(`${String(err)}\n${instances.map((p) => p.output().slice(-2000)).join('\n---\n')}`);
      });
      await new Promise((r) => setTimeout(r, 1500)); // anything sent twice would arrive now
      console.log(
        `notification takeover: ${devices.length} pending (${owners.map((o) => `${o.owner} ${o.n}`).join(', ')}), ` +
          `${victim.owner} killed, all delivered by ${survivor}; ${refused} attempts refused while the endpoint was down`,
      );
      expect(rows.every((x) => x.owner === survivor)).toBe(true);
      expect(new Set(rows.map((x) => x.dedup_key))).toEqual(new Set(accepted.keys()));
      for (const [key, n] of accepted) expect(n, key).toBe(1);
      expect(instances[1 - victimIndex]!.output()).toMatch(/adopted pending notifications/);
    } finally {
      await db.end();
    }
  }, 180_000);
});
