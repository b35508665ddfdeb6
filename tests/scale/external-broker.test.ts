import mqtt from 'mqtt';
import pgLib from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';
import { freePort, until } from '../helpers/procs.js';
import { api, login, startGateway } from '../helpers/site.js';

/**
 * Mosquitto as the external broker, two central instances consuming through
 * one shared subscription and sharing one store, one of them killed with
 * SIGKILL under continuous load and started again: every event stored once,
 * no alert doubled.
 */
describe('external broker with two ingest instances on PostgreSQL', () => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('keeps exactly-once delivery and alerts when an instance is killed under load', async () => {
    const devices = ['btn-1', 'btn-2', 'btn-3'];
    cluster = await Cluster.start('cw-ext-', devices);
    const { site: s, broker, procs } = cluster;
    const ports = [await freePort(), await freePort()];
    const startInstance = async (i: number) => {
      const p = cluster!.central(await cluster!.config(i, { httpPort: ports[i]! }));
      await p.waitFor(/central ready/);
      return p;
    };
    const a = await startInstance(0);
    await startInstance(1);
    const gw = await startGateway(s);
    procs.push(gw);
    await gw.waitFor(/connected to central/);

    // a gateway may not touch another site through the external broker either
    const intruder = await mqtt.connectAsync(broker.url, {
      clientId: 'gw-site-a-2',
      username: 'gw-site-a',
      password: s.gatewayPassword,
      reconnectPeriod: 0,
    });
    await intruder.publishAsync('carewatch/v1/sites/site-b/events', '{}', { qos: 1 }).catch(() => undefined);
    await intruder.endAsync();

    const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, {
      clientId: 'buttons',
      reconnectPeriod: 200,
    });
    const rounds = 40;
    let restarted = false;
    for (let r = 0; r < rounds; r++) {
      for (const d of devices) {
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'single' }), { qos: 1 });
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'double' }), { qos: 1 });
      }
      if (r === 10) await a.kill('SIGKILL');
      if (r === 25) {
        await startInstance(0); // same client id: its session and unacknowledged messages are waiting
        restarted = true;
      }
      await new Promise((res) => setTimeout(res, 10));
    }
    await dev.endAsync();
    expect(restarted).toBe(true);

    const view = { ...s, base: `http://127.0.0.1:${ports[1]}` };
    const token = await login(view);
    const total = rounds * devices.length * 2;
    type Ev = { id: string; deviceId: string; seq: number };
    let seen = 0;
    const events = await until(async () => {
      const r = await api<{ events: Ev[] }>(view, token, '/api/events?limit=1000&kind=emergency_call');
      seen = r.body.events.length;
      return r.body.events.length >= total ? r.body.events : undefined;
    }, 60_000).catch((err) => {
      throw new Error(
        `${seen} of ${total} events stored: ${String(err)}\n${procs.map((p) => p.output().slice(-1500)).join('\n---\n')}`,
      );
    });
    await new Promise((res) => setTimeout(res, 1000));
    for (const d of devices) {
      const seqs = events
        .filter((e) => e.deviceId === d)
        .map((e) => e.seq)
        .sort((x, y) => x - y);
      expect(seqs, d).toEqual(Array.from({ length: rounds * 2 }, (_, i) => i));
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(await api(view, token, '/api/events?limit=1000&siteId=site-b')).toMatchObject({
      body: { events: [] },
    });

    type A = { id: string; source: string; type: string; state: string; count: number };
    const presses = rounds * devices.length;
    // the last event of every device is a bedside cancel: once everything is applied nothing is open
    let lastCalls: A[] = [];
    const alerts = await until(async () => {
      const r = await api<{ alerts: A[] }>(view, token, '/api/alerts?limit=1000');
      const calls = r.body.alerts.filter((x) => x.type === 'emergency_call');
      lastCalls = calls;
      const counted = calls.reduce((n, x) => n + x.count, 0);
      return counted >= presses && calls.every((x) => x.state === 'resolved') ? calls : undefined;
    }, 60_000).catch(async (err) => {
      // what the alerting never got to: events stored but never processed
      const c = new pgLib.Client({ connectionString: process.env.CAREWATCH_PG_URL });
      await c.connect();
      const stuck = await c
        .query("SELECT device_id, seq FROM events WHERE kind = 'emergency_call' AND NOT processed")
        .finally(() => c.end());
      throw new Error(
        `${String(err)}: ${lastCalls.reduce((n, x) => n + x.count, 0)} of ${presses} calls in ${lastCalls.length} alerts, ` +
          `not resolved: ${JSON.stringify(lastCalls.filter((x) => x.state !== 'resolved'))}, ` +
          `stored but unprocessed: ${JSON.stringify(stuck.rows)}\n${procs.map((p) => p.output().slice(-3000)).join('\n---\n')}`,
      );
    });
    const counted = alerts.reduce((n, x) => n + x.count, 0);
    console.log(
      `external broker + PostgreSQL, 2 instances, one SIGKILLed: events sent ${total}, stored ${events.length}, ` +
        `duplicates ${events.length - new Set(events.map((e) => e.id)).size}; calls ${presses}, ` +
        `alerts ${alerts.length} carrying ${counted} calls (calls merged into an open alert while the dead instance's queue was late: ${presses - alerts.length})`,
    );
    expect(counted).toBe(presses); // every call is in exactly one alert: none lost, none doubled
    for (const x of alerts.slice(0, 40)) {
      const detail = await api<{ audit: Array<{ action: string }> }>(view, token, `/api/alerts/${x.id}`);
      const actions = detail.body.audit.map((y) => y.action);
      expect(actions.filter((y) => y === 'opened')).toHaveLength(1);
      expect(actions.filter((y) => y === 'resolved')).toHaveLength(1);
      expect(actions.filter((y) => y === 'repeated')).toHaveLength(x.count - 1);
    }
  }, 180_000);
});
