import { createServer, type Server } from 'node:http';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../alerts/notify/index.js';
import { buildEnvelope, siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';
import { freePort, until } from '../helpers/procs.js';

const SECRET = 'webhook-secret-0123456789';

describe('central → signed webhook for every alert change, from a button press', () => {
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
          routes: [{ channels: ['dispatch'], severities: ['critical'] }],
          grouping: { neverGroup: ['critical'] },
        },
      },
    });
  });
  afterAll(async () => {
    await env.close();
    server.close();
  });

  it('delivers opened and resolved, each once, signed', async () => {
    const gw = await mqtt.connectAsync(env.mqttUrl, {
      clientId: 'gw-site-a',
      username: 'gw-site-a',
      password: env.secrets['site-a'],
    });
    for (const [seq, action] of [
      [0, 'pressed'],
      [1, 'cancelled'],
    ] as const) {
      const e = buildEnvelope({
        kind: 'emergency_call',
        siteId: 'site-a',
        deviceId: 'btn-1',
        seq,
        data: { action, room: '203' },
      });
      await gw.publishAsync(siteTopic('site-a', 'events'), JSON.stringify(e), { qos: 1 });
    }
    await gw.endAsync();
    await until(async () => received.length >= 2, 15_000);
    await new Promise((r) => setTimeout(r, 500)); // anything sent twice would arrive now
    expect(received).toHaveLength(2);
    for (const r of received) {
      const ts = String(r.headers['x-carewatch-timestamp']);
      const sig = String(r.headers['x-carewatch-signature']);
      expect(verifyWebhookSignature(SECRET, ts, r.body, sig, Date.now())).toBe(true);
    }
    const bodies = received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(JSON.stringify(bodies)).toContain('阳光养老院');
    expect(JSON.stringify(bodies[0])).toContain('opened');
    expect(JSON.stringify(bodies[1])).toContain('resolved');
  });
});
