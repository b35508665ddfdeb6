import { createServer, type Server } from 'node:http';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../alerts/notify/index.js';
import { siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';
import { freePort, until } from '../helpers/procs.js';

const SECRET = 'webhook-secret-0123456789';

describe('central → signed webhook for accidents and hazards', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  let server: Server;
  const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];

  beforeAll(async () => {
    const port = await freePort();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    env = await inProcessCentral({
      sites: ['site-a'],
      config: {
        notify: {
          baseUrl: 'http://127.0.0.1:8080',
          siteNames: { 'site-a': '阳光养老院' },
          channels: [
            { type: 'webhook', name: 'dispatch', url: `http://127.0.0.1:${port}/hook`, secret: SECRET },
          ],
          // only accidents and hazards on this hook (the coverage gap alert itself is not routed)
          routes: [{ channels: ['dispatch'], types: ['accident', 'hazard'] }],
          grouping: { neverGroup: ['critical', 'major'] },
        },
      },
    });
  });
  afterAll(async () => {
    await env.close();
    server.close();
  });

  it('delivers an accident classified over the API and a hazard opened by a coverage gap, each once, signed', async () => {
    const login = await fetch(`${env.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: env.adminPassword }),
    });
    const { token } = (await login.json()) as { token: string };
    const r = await fetch(`${env.base}/api/accidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ siteId: 'site-a', title: '食堂烫伤' }),
    });
    expect(r.status).toBe(200);
    const { accident } = (await r.json()) as { accident: { id: string } };

    const gw = await mqtt.connectAsync(env.mqttUrl, {
      clientId: 'gw-site-a',
      username: 'gw-site-a',
      password: env.secrets['site-a'],
    });
    const head = { v: 1, siteId: 'site-a', gatewayId: 'gw-site-a', ts: new Date().toISOString() };
    const cameras = ['entrance', 'reception_hall', 'duty_room', 'corridor'].map((zone) => ({
      deviceId: `cam-${zone}`,
      type: 'camera',
      zone,
      online: true,
      recording: true,
      oldestKeptAt: new Date(Date.now() - 35 * 86400_000).toISOString(),
      continuityPct: 99.5,
      policyDays: 30,
      forecastDays: 48,
    }));
    await gw.publishAsync(siteTopic('site-a', 'status'), JSON.stringify({ ...head, state: 'online' }), {
      qos: 1,
    });
    await gw.publishAsync(siteTopic('site-a', 'inventory'), JSON.stringify({ ...head, devices: cameras }), {
      qos: 1,
      retain: true,
    });
    await gw.endAsync();

    await until(async () => received.length >= 2, 15_000);
    await new Promise((res) => setTimeout(res, 500)); // anything sent twice would arrive now
    expect(received).toHaveLength(2);
    for (const x of received) {
      const ts = String(x.headers['x-carewatch-timestamp']);
      const sig = String(x.headers['x-carewatch-signature']);
      expect(verifyWebhookSignature(SECRET, ts, x.body, sig, Date.now())).toBe(true);
    }
    const bodies = received.map((x) => JSON.parse(x.body));
    const acc = bodies.find((b) => b.notifications[0].safety.event === 'accident_classified');
    expect(acc).toMatchObject({
      link: `http://127.0.0.1:8080/#/accidents/${accident.id}`,
      notifications: [
        { dedupKey: `accident:${accident.id}:accident_classified`, alert: { type: 'accident' } },
      ],
    });
    expect(acc.title).toMatch(
      /^【安全事故 Safety accident】食堂烫伤 — 阳光养老院：须在 .* 前上报，剩余 (60|59)分/,
    );
    const [hazard] = await env.central.hazards.list({});
    const hz = bodies.find((b) => b.notifications[0].safety.event === 'hazard_opened');
    expect(hz).toMatchObject({
      title: `【新隐患 New hazard】${hazard!.title} — 阳光养老院`,
      link: `http://127.0.0.1:8080/#/hazards/${hazard!.id}`,
      notifications: [
        { safety: { hazard: { id: hazard!.id, source: 'zone:canteen', kind: 'coverage_gap' } } },
      ],
    });
  });
});
