import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pgLib from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { mosquittoAcl } from '../../ingest/mosquitto.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../../lib/testkit/mosquitto.js';
import { startTestPostgres, type TestPostgres } from '../../lib/testkit/postgres.js';
import { cli, freePort, type Proc, requireBuild, tempDir, until } from '../helpers/procs.js';
import { api, login, setupSite, startGateway } from '../helpers/site.js';

/**
 * Mosquitto as the external broker, two central instances consuming through
 * one shared subscription and sharing one store, one of them killed with
 * SIGKILL under continuous load and started again: every event stored once,
 * no alert doubled.
 */
describe('external broker with two ingest instances on PostgreSQL', () => {
  const dir = tempDir('cw-ext-');
  let pg: TestPostgres | null = null;
  const procs: Proc[] = [];
  let broker: Mosquitto | undefined;
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await broker?.kill('SIGKILL');
    delete process.env.CAREWATCH_PG_URL;
    await pg?.stop();
    dir.cleanup();
  });

  it('keeps exactly-once delivery and alerts when an instance is killed under load', async () => {
    requireBuild();
    expect(haveMosquitto(), 'mosquitto is installed by .ci/run').toBe(true);
    pg = await startTestPostgres();
    expect(pg, 'PostgreSQL is installed by .ci/run').not.toBeNull();
    // provisioning below and both central processes use this database
    process.env.CAREWATCH_PG_URL = await pg!.createDatabase();
    const devices = ['btn-1', 'btn-2', 'btn-3'];
    const s = await setupSite(dir.path, { devices });
    const centralSecret = 'central-secret-for-the-test';
    broker = await startMosquitto(
      dir.path,
      { 'gw-site-a': s.gatewayPassword, 'carewatch-central': centralSecret },
      mosquittoAcl([{ id: 'gw-site-a', siteId: 'site-a' }], 'carewatch-central'),
    );
    const site = parse(readFileSync(s.siteYaml, 'utf8'));
    site.central.url = broker.url;
    writeFileSync(s.siteYaml, stringify(site));

    const ports = [await freePort(), await freePort()];
    const startInstance = async (i: number) => {
      const cfg = join(dir.path, `central-${i}.yaml`);
      writeFileSync(
        cfg,
        stringify({
          dataDir: s.centralDir,
          mqtt: {
            mode: 'external',
            external: {
              url: broker!.url,
              username: 'carewatch-central',
              clientId: `central-${i}`,
              shareGroup: 'ingest',
            },
          },
          http: { port: ports[i] },
        }),
      );
      const p = cli(['central', '--config', cfg], { CAREWATCH_MQTT_PASSWORD: centralSecret });
      procs.push(p);
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
