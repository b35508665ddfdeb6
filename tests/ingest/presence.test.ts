import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEnvelope, PROTOCOL_VERSION, siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';
import { until } from '../helpers/procs.js';

const status = (state: 'online' | 'offline', site = 'site-a') =>
  JSON.stringify({
    v: PROTOCOL_VERSION,
    siteId: site,
    gatewayId: `gw-${site}`,
    state,
    ts: new Date().toISOString(),
  });

describe('gateway presence: retained status, last will and heartbeats', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  beforeAll(async () => {
    env = await inProcessCentral();
  });
  afterAll(async () => env.close());

  const connect = (site: string): Promise<MqttClient> =>
    mqtt.connectAsync(env.mqttUrl, {
      clientId: `gw-${site}`,
      username: `gw-${site}`,
      password: env.secrets[site],
      reconnectPeriod: 0,
      will: {
        topic: siteTopic(site, 'status'),
        payload: Buffer.from(status('offline', site)),
        qos: 1,
        retain: true,
      },
    });
  const gwAlert = async (site: string) =>
    (await env.central.store.alerts.list({ siteIds: [site] })).find((a) => a.type === 'gateway_offline');

  it('goes offline on the last will, opens a gateway_offline alert, and resolves it when the gateway returns', async () => {
    const c = await connect('site-a');
    await c.publishAsync(siteTopic('site-a', 'status'), status('online'), { qos: 1, retain: true });
    await until(
      async () => env.central.presence.all().find((p) => p.gatewayId === 'gw-site-a')?.state === 'online',
    );
    c.stream.destroy(); // the link dies without a DISCONNECT: the broker publishes the will
    await until(
      async () => env.central.presence.all().find((p) => p.gatewayId === 'gw-site-a')?.state === 'offline',
    );
    const opened = await until(() => gwAlert('site-a'));
    expect(opened).toMatchObject({ state: 'open', severity: 'major', source: 'gw-site-a' });
    c.end(true);

    const back = await connect('site-a');
    await back.publishAsync(siteTopic('site-a', 'status'), status('online'), { qos: 1, retain: true });
    await until(async () => (await gwAlert('site-a'))?.state === 'resolved');
    await back.endAsync();
  });

  it('declares a gateway offline when its heartbeats stop although its connection stays up', async () => {
    const c = await connect('site-b');
    const hb = buildEnvelope({
      kind: 'gateway_heartbeat',
      siteId: 'site-b',
      deviceId: 'gw-site-b',
      seq: 0,
      data: { uptimeS: 1, intervalS: 0.3, outboxDepth: 4, version: 't' },
    });
    await c.publishAsync(siteTopic('site-b', 'telemetry'), JSON.stringify(hb), { qos: 1 });
    const p = await until(async () =>
      env.central.presence.all().find((x) => x.gatewayId === 'gw-site-b' && x.state === 'online'),
    );
    expect(p.outboxDepth).toBe(4);
    // no more heartbeats: after 3 intervals (0.9 s) the checker declares it offline
    const off = await until(
      async () =>
        env.central.presence.all().find((x) => x.gatewayId === 'gw-site-b' && x.state === 'offline'),
      5000,
    );
    expect(off.reason).toBe('heartbeat_missed');
    expect(c.connected).toBe(true);
    await c.endAsync();
  });
});
