import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coverageOf } from '../../central/coverage.js';
import { type CameraReport, PROTOCOL_VERSION, siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';
import { until } from '../helpers/procs.js';

const DAY = 24 * 3600_000;
const NOW = Date.UTC(2026, 10, 22);

function cam(deviceId: string, zone: string, over: Partial<CameraReport> = {}): CameraReport {
  return {
    deviceId,
    type: 'camera',
    zone,
    online: true,
    recording: true,
    oldestKeptAt: new Date(NOW - 31 * DAY).toISOString(),
    continuityPct: 100,
    policyDays: 30,
    forecastDays: 60,
    ...over,
  };
}

const allZones = () => [
  cam('cam-ent', 'entrance'),
  cam('cam-hall', 'reception_hall'),
  cam('cam-duty', 'duty_room'),
  cam('cam-cor', 'corridor'),
  cam('cam-can', 'canteen'),
];

const inv = (site: string, devices: unknown[]) => ({
  body: {
    v: PROTOCOL_VERSION,
    siteId: site,
    gatewayId: `gw-${site}`,
    ts: new Date(NOW).toISOString(),
    devices,
  },
  receivedAt: NOW,
});

describe('coverage of the required zones', () => {
  it('is compliant when every zone has a camera online, recording and holding 30 days', () => {
    const c = coverageOf({ id: 's', name: 'S' }, inv('s', allZones()), true, NOW);
    expect(c.compliant).toBe(true);
    expect(c.zones.map((z) => z.code)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('shows the gap of a site without a canteen camera and of an offline entrance camera, with reasons', () => {
    const noCanteen = coverageOf(
      { id: 's', name: 'S' },
      inv(
        's',
        allZones().filter((c) => c.zone !== 'canteen'),
      ),
      true,
      NOW,
    );
    expect(noCanteen.compliant).toBe(false);
    expect(noCanteen.zones.find((z) => z.zone === 'canteen')).toMatchObject({ ok: false, code: 'no_camera' });
    expect(noCanteen.zones.filter((z) => !z.ok)).toHaveLength(1);

    const devices = allZones().map((c) => (c.zone === 'entrance' ? { ...c, online: false } : c));
    const offline = coverageOf({ id: 's', name: 'S' }, inv('s', devices), true, NOW);
    const entrance = offline.zones.find((z) => z.zone === 'entrance')!;
    expect(entrance).toMatchObject({ ok: false, code: 'offline' });
    expect(entrance.reason).toContain('offline');
  });

  it('counts a second good camera in the zone, and flags short retention and stopped recording', () => {
    const devices = [
      ...allZones().filter((c) => c.zone !== 'corridor'),
      cam('cam-cor-1', 'corridor', { recording: false }),
      cam('cam-cor-2', 'corridor'),
    ];
    expect(coverageOf({ id: 's', name: 'S' }, inv('s', devices), true, NOW).compliant).toBe(true);
    const young = allZones().map((c) =>
      c.zone === 'duty_room' ? { ...c, oldestKeptAt: new Date(NOW - 12 * DAY).toISOString() } : c,
    );
    const z = coverageOf({ id: 's', name: 'S' }, inv('s', young), true, NOW).zones.find(
      (x) => x.zone === 'duty_room',
    )!;
    expect(z).toMatchObject({ ok: false, code: 'retention_short' });
    expect(z.cameras[0]!.daysKept).toBe(12);
  });

  it('ignores malformed camera entries and says when the gateway is offline or silent', () => {
    const junk = [
      ...allZones().slice(0, 4),
      { deviceId: 'cam-can', type: 'camera', zone: 'canteen', online: 'yes' },
    ];
    expect(
      coverageOf({ id: 's', name: 'S' }, inv('s', junk), true, NOW).zones.find((z) => z.zone === 'canteen')!
        .code,
    ).toBe('no_camera');
    expect(coverageOf({ id: 's', name: 'S' }, inv('s', allZones()), false, NOW).zones[0]!.code).toBe(
      'gateway_offline',
    );
    expect(coverageOf({ id: 's', name: 'S' }, null, true, NOW).zones[0]!.code).toBe('no_inventory');
  });
});

describe('coverage through the central: inventories in, matrix and coverage_gap alerts out', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  beforeAll(async () => {
    env = await inProcessCentral({ sites: ['site-a'] });
  });
  afterAll(async () => env.close());

  it('opens a coverage_gap alert for the missing canteen camera and clears it when one is added', async () => {
    const c = await mqtt.connectAsync(env.mqttUrl, {
      clientId: 'gw-site-a',
      username: 'gw-site-a',
      password: env.secrets['site-a'],
    });
    const now = Date.now();
    const fresh = allZones().map((x) => ({ ...x, oldestKeptAt: new Date(now - 40 * DAY).toISOString() }));
    const publish = (devices: unknown[]) =>
      c.publishAsync(
        siteTopic('site-a', 'inventory'),
        JSON.stringify({
          v: PROTOCOL_VERSION,
          siteId: 'site-a',
          gatewayId: 'gw-site-a',
          ts: new Date().toISOString(),
          devices,
        }),
        { qos: 1, retain: true },
      );
    await c.publishAsync(
      siteTopic('site-a', 'status'),
      JSON.stringify({
        v: 1,
        siteId: 'site-a',
        gatewayId: 'gw-site-a',
        state: 'online',
        ts: new Date().toISOString(),
      }),
      { qos: 1 },
    );
    await publish(fresh.filter((x) => x.zone !== 'canteen'));
    const gap = await until(async () => {
      await env.central.alerts.idle();
      return (await env.central.store.alerts.list({ types: ['coverage_gap'], states: ['open'] }))[0];
    });
    expect(gap).toMatchObject({ siteId: 'site-a', source: 'zone:canteen', severity: 'major' });

    const login = await fetch(`${env.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: env.adminPassword }),
    });
    const { token } = (await login.json()) as { token: string };
    const cov = (await (
      await fetch(`${env.base}/api/coverage`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      sites: Array<{ compliant: boolean; zones: Array<{ zone: string; ok: boolean }> }>;
    };
    expect(cov.sites[0]!.compliant).toBe(false);
    expect(cov.sites[0]!.zones.filter((z) => !z.ok).map((z) => z.zone)).toEqual(['canteen']);
    const csv = await (
      await fetch(`${env.base}/api/coverage.csv`, { headers: { authorization: `Bearer ${token}` } })
    ).text();
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(6);
    expect(csv).toContain('site-a,site-a,canteen,no,no_camera');

    await publish(fresh);
    await until(async () => {
      await env.central.alerts.idle();
      return (await env.central.store.alerts.get(gap.id))?.state === 'resolved';
    });
    await c.endAsync();
  });
});
