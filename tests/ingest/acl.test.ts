import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEnvelope, siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';
import { freePort, tempDir } from '../helpers/procs.js';

type Env = Awaited<ReturnType<typeof inProcessCentral>>;

function connect(url: string, o: mqtt.IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...o });
}

async function refused(url: string, o: mqtt.IClientOptions): Promise<string> {
  try {
    const c = await connect(url, o);
    await c.endAsync();
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  }
}

function call(site: string, device = 'btn-1') {
  return buildEnvelope({
    kind: 'emergency_call',
    siteId: site,
    deviceId: device,
    seq: 0,
    data: { action: 'pressed' },
  });
}

describe('central broker: authentication and ACL with a raw MQTT client', () => {
  let env: Env;
  beforeAll(async () => {
    env = await inProcessCentral();
  });
  afterAll(async () => env.close());

  it('refuses a wrong password, a missing password, an unknown gateway and a borrowed client id', async () => {
    const url = env.mqttUrl;
    expect(
      await refused(url, { clientId: 'gw-site-a', username: 'gw-site-a', password: 'wrong-password' }),
    ).toMatch(/Bad username or password|Not authorized/i);
    expect(await refused(url, { clientId: 'gw-site-a' })).toMatch(/Bad username or password|Not authorized/i);
    expect(await refused(url, { clientId: 'gw-x', username: 'gw-x', password: 'whatever-secret' })).toMatch(
      /Bad username or password|Not authorized/i,
    );
    expect(
      await refused(url, { clientId: 'gw-site-b', username: 'gw-site-a', password: env.secrets['site-a'] }),
    ).toMatch(/Identifier rejected/i);
    const m = await env.central.metrics.text();
    expect(m).toMatch(/carewatch_mqtt_auth_failures_total\{reason="bad_credentials"\} 2/);
  });

  it('lets a gateway subscribe only to its own command topics', async () => {
    const c = await connect(env.mqttUrl, {
      clientId: 'gw-site-a',
      username: 'gw-site-a',
      password: env.secrets['site-a'],
    });
    const granted = (filter: string) =>
      new Promise<number | 'refused'>((res) =>
        c.subscribe(filter, { qos: 1 }, (err, g) =>
          res(err || !g?.[0] || g[0].qos === 128 ? 'refused' : g[0].qos),
        ),
      );
    expect(await granted('carewatch/v1/sites/site-a/cmd/+')).toBe(1);
    for (const filter of [
      'carewatch/v1/sites/site-b/cmd/+',
      'carewatch/v1/sites/site-a/events',
      'carewatch/v1/sites/+/cmd/+',
      '#',
      'carewatch/v1/sites/site-a/cmd/#',
    ]) {
      expect(await granted(filter), filter).toBe('refused');
    }
    await c.endAsync();
  });

  it('drops a gateway that publishes under another site, and stores nothing of it', async () => {
    const c = await connect(env.mqttUrl, {
      clientId: 'gw-site-a',
      username: 'gw-site-a',
      password: env.secrets['site-a'],
    });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(siteTopic('site-b', 'events'), JSON.stringify(call('site-b')), { qos: 1 });
    await closed;
    c.end(true);
    expect(await env.central.store.events.count({ siteIds: ['site-b'] })).toBe(0);
    expect(await env.central.metrics.text()).toMatch(
      /carewatch_mqtt_acl_denied_total\{action="publish"\} [1-9]/,
    );
  });

  it('refuses a gateway publishing commands, even to its own site', async () => {
    const c = await connect(env.mqttUrl, {
      clientId: 'gw-site-a',
      username: 'gw-site-a',
      password: env.secrets['site-a'],
    });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish('carewatch/v1/sites/site-a/cmd/ping', '{}', { qos: 1 });
    await closed;
    c.end(true);
  });
});

describe('central broker over TLS', () => {
  const dir = tempDir('cw-tls-');
  let env: Env;
  let tlsPort: number;
  const cert = join(dir.path, 'cert.pem');
  const key = join(dir.path, 'key.pem');

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    tlsPort = await freePort();
    env = await inProcessCentral({
      config: { mqtt: { port: 0, tls: { port: tlsPort, certFile: cert, keyFile: key } } },
    });
  });
  afterAll(async () => {
    await env.close();
    dir.cleanup();
  });

  it('accepts a gateway that trusts the certificate and stores its event', async () => {
    const { readFileSync } = await import('node:fs');
    const c = await connect(`mqtts://127.0.0.1:${tlsPort}`, {
      clientId: 'gw-site-a',
      username: 'gw-site-a',
      password: env.secrets['site-a'],
      ca: readFileSync(cert),
    });
    await c.publishAsync(siteTopic('site-a', 'events'), JSON.stringify(call('site-a')), { qos: 1 });
    await c.endAsync();
    expect(await env.central.store.events.count({ siteIds: ['site-a'] })).toBe(1);
  });

  it('refuses a client that does not trust the certificate, and wrong credentials over TLS', async () => {
    expect(
      await refused(`mqtts://127.0.0.1:${tlsPort}`, {
        clientId: 'gw-site-a',
        username: 'gw-site-a',
        password: env.secrets['site-a'],
      }),
    ).toMatch(/self[- ]signed|certificate/i);
    const { readFileSync } = await import('node:fs');
    expect(
      await refused(`mqtts://127.0.0.1:${tlsPort}`, {
        clientId: 'gw-site-a',
        username: 'gw-site-a',
        password: 'not-the-secret',
        ca: readFileSync(cert),
      }),
    ).toMatch(/Bad username or password|Not authorized/i);
  });
});
