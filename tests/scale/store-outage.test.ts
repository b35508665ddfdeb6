import mqtt from 'mqtt';
import pgLib from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../lib/testkit/tcp-proxy.js';
import { Cluster } from '../helpers/cluster.js';
import { freePort, until } from '../helpers/procs.js';
import { api, login, startGateway } from '../helpers/site.js';

/**
 * The central's link to PostgreSQL cut for a few seconds while emergency
 * calls keep coming (through Mosquitto, external-broker mode): what could not
 * be stored stays unacknowledged in the broker and is delivered again, what
 * was stored but not yet applied is applied later, and the process stays up.
 * Every call stored once, every call in exactly one alert.
 */
describe('PostgreSQL unreachable for a while under load', () => {
  let cluster: Cluster | undefined;
  let proxy: TcpProxy | undefined;
  afterAll(async () => {
    await proxy?.close();
    await cluster?.stop();
  });

  it('loses no call and doubles no alert, and the central keeps running', async () => {
    const devices = ['btn-1', 'btn-2', 'btn-3'];
    cluster = await Cluster.start('cw-pg-outage-', devices);
    const { site: s, procs, pgUrl } = cluster;
    const direct = new URL(pgUrl);
    proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port) });
    const viaProxy = new URL(pgUrl);
    viaProxy.port = String(proxy.port);
    // every store of the central (events, alerts, media, safety) goes through the proxy
    process.env.CAREWATCH_PG_URL = viaProxy.toString();
    const httpPort = await freePort();
    const central = cluster.central(
      await cluster.config(0, {
        httpPort,
        extra: {
          storage: { postgresUrl: viaProxy.toString() },
          // what was stored but could not be applied during the cut is announced again soon
          alerts: { redeliverAfterS: 4 },
        },
      }),
    );
    await central.waitFor(/central ready/);
    const gw = await startGateway(s);
    procs.push(gw);
    await gw.waitFor(/connected to central/);

    const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, {
      clientId: 'buttons',
      reconnectPeriod: 200,
    });
    const rounds = 30;
    for (let r = 0; r < rounds; r++) {
      for (const d of devices) {
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'single' }), { qos: 1 });
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'double' }), { qos: 1 });
      }
      if (r === 8) proxy.cut();
      if (r === 20) proxy.restore();
      await new Promise((res) => setTimeout(res, 150));
    }
    await dev.endAsync();
    expect(proxy.stats.refused, 'the central tried to reach PostgreSQL during the cut').toBeGreaterThan(0);

    const total = rounds * devices.length * 2;
    const presses = rounds * devices.length;
    type A = { id: string; state: string; count: number; type: string };
    let calls: A[] = [];
    const db = new pgLib.Client({ connectionString: pgUrl });
    await db.connect();
    try {
      type Row = { id: string; device_id: string; seq: number };
      let rows: Row[] = [];
      await until(async () => {
        rows = (await db.query<Row>("SELECT id, device_id, seq FROM events WHERE kind = 'emergency_call'"))
          .rows;
        return rows.length >= total;
      }, 90_000).catch((err) => {
        throw new Error(
          `${rows.length} of ${total} calls stored: ${String(err)}\n${procs.map((p) => p.output().slice(-3000)).join('\n---\n')}`,
        );
      });
      for (const d of devices) {
        const seqs = rows
          .filter((e) => e.device_id === d)
          .map((e) => Number(e.seq))
          .sort((x, y) => x - y);
        expect(seqs, d).toEqual(Array.from({ length: rounds * 2 }, (_, i) => i));
      }

      // every press in exactly one alert, every alert resolved by the cancel that followed it
      await until(async () => {
        const token = await login({ ...s, base: `http://127.0.0.1:${httpPort}` });
        const r = await api<{ alerts: A[] }>(
          { ...s, base: `http://127.0.0.1:${httpPort}` },
          token,
          '/api/alerts?limit=1000',
        );
        calls = r.body.alerts.filter((x) => x.type === 'emergency_call');
        const counted = calls.reduce((n, x) => n + x.count, 0);
        return counted >= presses && calls.every((x) => x.state === 'resolved');
      }, 90_000).catch(async (err) => {
        const stuck = await db.query(
          "SELECT device_id, seq FROM events WHERE kind = 'emergency_call' AND NOT processed",
        );
        throw new Error(
          `${String(err)}: ${calls.reduce((n, x) => n + x.count, 0)} of ${presses} calls in ${calls.length} alerts; ` +
            `unresolved ${JSON.stringify(calls.filter((x) => x.state !== 'resolved'))}; ` +
            `unprocessed ${JSON.stringify(stuck.rows)}\n${procs.map((p) => p.output().slice(-3000)).join('\n---\n')}`,
        );
      });
      expect(calls.reduce((n, x) => n + x.count, 0)).toBe(presses);
      const unprocessed = await db.query('SELECT count(*)::int AS n FROM events WHERE NOT processed');
      expect(unprocessed.rows[0].n).toBe(0);
    } finally {
      await db.end();
    }
    // still the same process, and ready
    console.log(
      `PostgreSQL cut under load: ${proxy.stats.refused} connection attempts refused during the cut; ` +
        `${total} calls stored once, ${presses} presses in ${calls.length} alerts`,
    );
    expect(central.child.exitCode).toBeNull();
    expect(central.child.signalCode).toBeNull();
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(ready.status).toBe(200);
  }, 240_000);
});
