import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEnvelope, MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';

describe('ingest: bad input is rejected with a reason, counted, and never crashes or doubles', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  let gw: MqttClient;
  const events = siteTopic('site-a', 'events');

  beforeAll(async () => {
    env = await inProcessCentral();
    gw = await mqtt.connectAsync(env.mqttUrl, {
      clientId: 'gw-site-a',
      username: 'gw-site-a',
      password: env.secrets['site-a'],
      reconnectPeriod: 0,
    });
  });
  afterAll(async () => {
    await gw.endAsync();
    await env.close();
  });

  const call = (device = 'btn-1', action: 'pressed' | 'cancelled' = 'pressed') =>
    buildEnvelope({ kind: 'emergency_call', siteId: 'site-a', deviceId: device, seq: 0, data: { action } });

  it('acknowledges and quarantines each kind of bad payload with its code, keeping the connection', async () => {
    const cases: Array<[string, string | Buffer]> = [
      ['PAYLOAD_NOT_JSON', '{"v":1,'],
      ['ENVELOPE_INVALID', JSON.stringify({ ...call(), id: 'nope' })],
      ['DATA_INVALID', JSON.stringify({ ...call(), data: { action: 'explode' } })],
      ['KIND_UNKNOWN', JSON.stringify({ ...call(), kind: 'teleport' })],
      ['PAYLOAD_TOO_LARGE', Buffer.alloc(MAX_PAYLOAD_BYTES + 10, 0x7b)],
      ['SITE_MISMATCH', JSON.stringify({ ...call(), siteId: 'site-b' })],
      [
        'CHANNEL_MISMATCH',
        JSON.stringify(
          buildEnvelope({
            kind: 'gateway_heartbeat',
            siteId: 'site-a',
            deviceId: 'gw-site-a',
            seq: 0,
            data: { uptimeS: 1, intervalS: 1, outboxDepth: 0, version: 'x' },
          }),
        ),
      ],
    ];
    for (const [, payload] of cases) await gw.publishAsync(events, payload, { qos: 1 });
    expect(gw.connected).toBe(true);
    const rejects = await env.central.store.events.rejects(100);
    expect(rejects.map((r) => r.code).sort()).toEqual(cases.map(([c]) => c).sort());
    for (const r of rejects) {
      expect(r.gatewayId).toBe('gw-site-a');
      expect(r.message.length).toBeGreaterThan(5);
    }
    expect(rejects.find((r) => r.code === 'DATA_INVALID')!.message).toContain('/data/action');
    const metrics = await env.central.metrics.text();
    for (const [code] of cases)
      expect(metrics).toContain(`carewatch_ingest_rejected_total{code="${code}"} 1`);
    expect(await env.central.store.events.count()).toBe(0);
    expect(await env.central.store.alerts.list({})).toEqual([]);
  });

  it('stores a replayed event id once and opens one alert', async () => {
    const e = call('btn-7');
    for (let i = 0; i < 3; i++) await gw.publishAsync(events, JSON.stringify(e), { qos: 1 });
    await env.central.alerts.idle();
    expect(await env.central.store.events.count({ siteIds: ['site-a'] })).toBe(1);
    const alerts = await env.central.store.alerts.list({ siteIds: ['site-a'] });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.count).toBe(1);
    expect(await env.central.metrics.text()).toMatch(/carewatch_ingest_duplicates_total\{where="memory"\} 2/);
  });

  it('rejects events from devices missing from the site inventory once one is published', async () => {
    const inventory = {
      v: PROTOCOL_VERSION,
      siteId: 'site-a',
      gatewayId: 'gw-site-a',
      ts: new Date().toISOString(),
      devices: [{ deviceId: 'btn-1', type: 'call_button' }],
    };
    await gw.publishAsync(siteTopic('site-a', 'inventory'), JSON.stringify(inventory), {
      qos: 1,
      retain: true,
    });
    await gw.publishAsync(events, JSON.stringify(call('btn-unknown')), { qos: 1 });
    await gw.publishAsync(events, JSON.stringify(call('btn-1')), { qos: 1 });
    const codes = (await env.central.store.events.rejects(100)).map((r) => r.code);
    expect(codes).toContain('DEVICE_UNKNOWN');
    const stored = await env.central.store.events.list({ siteIds: ['site-a'] });
    expect(stored.map((x) => x.deviceId).sort()).toEqual(['btn-1', 'btn-7']);
  });
});
