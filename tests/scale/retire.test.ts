import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';
import { until } from '../helpers/procs.js';
import { startGateway } from '../helpers/site.js';

/**
 * Two central instances on Mosquitto and PostgreSQL; one is switched off and
 * calls arrive, a share of them queued in its persistent sessions; then
 * `carewatch central --retire` takes it out for good: what it held is
 * stored and alerted once, and every later call goes to the instance left.
 */
describe('carewatch central --retire', () => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('stores what the retired instance held once, and leaves it no share of what comes after', async () => {
    const devices = Array.from({ length: 12 }, (_, i) => `btn-${i + 1}`);
    cluster = await Cluster.start('cw-retire-', devices);
    const c = cluster;
    const s = c.site;
    const configs = [
      await c.config(0, { external: { consumers: 2 } }),
      await c.config(1, { external: { consumers: 2 } }),
    ];
    const start = async (i: number) => {
      const p = c.central(configs[i]!);
      await p.waitFor(/central ready/);
      return p;
    };
    const [, leaving] = [await start(0), await start(1)];
    const gw = await startGateway(s);
    c.procs.push(gw);
    await gw.waitFor(/connected to central/);
    expect(await leaving!.kill('SIGTERM')).toBe(0); // switched off: its two sessions stay in the group

    const db = new pg.Client({ connectionString: c.pgUrl });
    await db.connect();
    const stored = async () =>
      (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE kind = 'emergency_call'"))
        .rows[0]!.n;
    const press = async (list: string[]) => {
      const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, { clientId: 'buttons' });
      for (const d of list)
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'single' }), { qos: 1 });
      await dev.endAsync();
    };
    try {
      const first = devices.slice(0, 6);
      await press(first);
      // the gateway's outbox empties (the broker acknowledged all), but only a share is stored
      await until(async () => (await stored()) > 0, 30_000).catch((err) => {
        throw new Error(`${String(err)}\n${c.procs.map((p) => p.output().slice(-1500)).join('\n---\n')}`);
      });
      await new Promise((r) => setTimeout(r, 2000));
      const before = await stored();
      expect(before).toBeLessThan(first.length);

      const retire = c.central(configs[1]!, ['--retire']);
      const m = await retire.waitFor(
        /central retired: (\d+) session\(s\) drained and deleted \(([^)]*)\), (\d+) message/,
        90_000,
      );
      const code =
        retire.child.exitCode ??
        (await new Promise<number | null>((r) => retire.child.once('exit', (c) => r(c))));
      expect(code).toBe(0);
      expect(m[2]).toBe('central-1, central-1-1');
      expect(Number(m[3])).toBe(first.length - before);
      expect(await stored()).toBe(first.length);
      // each held call opened its alert once
      await until(async () => {
        const r = await db.query<{ source: string; n: number }>(
          "SELECT source, count(*)::int AS n FROM alerts WHERE type = 'emergency_call' GROUP BY source",
        );
        return r.rows.length === first.length ? r.rows : undefined;
      }, 30_000).then((rows) => {
        for (const r of rows) expect(r.n, r.source).toBe(1);
      });

      // everything after goes to the instance left: nothing waits in a session of the retired one
      await press(devices.slice(6));
      await until(async () => (await stored()) === devices.length, 30_000);
    } finally {
      await db.end();
    }
  }, 180_000);
});
