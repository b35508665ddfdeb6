import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRegion, addUser } from '../../cli/provision.js';
import { siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';
import { until } from '../helpers/procs.js';
import { supervisorSocket } from '../helpers/ws.js';

/**
 * Accident and hazard changes over the supervisor WebSocket, scope-checked
 * like the REST routes: a user gets the notices of the sites in scope only.
 * Regions: P > C1 > {D1: site-a, D2: site-b}.
 */
type Who = 'admin' | 'head-a' | 'civil-d1' | 'civil-c1' | 'fire-d1' | 'staff-b';
const SEES_SITES: Record<Who, string[]> = {
  admin: ['site-a', 'site-b'],
  'head-a': ['site-a'],
  'civil-d1': ['site-a'],
  'civil-c1': ['site-a', 'site-b'],
  'fire-d1': ['site-a'],
  'staff-b': ['site-b'],
};

interface Msg {
  type: string;
  change?: string;
  accident?: { id: string; siteId: string; state: string };
  hazard?: { id: string; siteId: string; state: string };
  remainingS?: number;
  report?: { toWhom: string };
}

describe('accidents and hazards pushed over the WebSocket, per scope', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  const tokens = {} as Record<Who, string>;
  const call = (who: Who, path: string, body?: unknown) =>
    fetch(`${env.base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? null : JSON.stringify(body),
    });

  beforeAll(async () => {
    env = await inProcessCentral({ sites: ['site-a', 'site-b'] });
    const dataDir = env.dir;
    await addRegion({ dataDir, id: 'P', name: '省', level: 'province' });
    await addRegion({ dataDir, id: 'C1', name: '市', level: 'city', parent: 'P' });
    await addRegion({ dataDir, id: 'D1', name: '区一', level: 'district', parent: 'C1' });
    await addRegion({ dataDir, id: 'D2', name: '区二', level: 'district', parent: 'C1' });
    await env.central.store.registry.upsertSite({ id: 'site-a', name: 'A', region: 'D1' });
    await env.central.store.registry.upsertSite({ id: 'site-b', name: 'B', region: 'D2' });
    const users: Array<[Who, string, { sites?: string; region?: string }]> = [
      ['head-a', 'institution_head', { sites: 'site-a' }],
      ['civil-d1', 'civil_affairs', { region: 'D1' }],
      ['civil-c1', 'civil_affairs', { region: 'C1' }],
      ['fire-d1', 'fire_rescue', { region: 'D1' }],
      ['staff-b', 'institution_staff', { sites: 'site-b' }],
    ];
    const passwords: Record<string, string> = { admin: env.adminPassword };
    for (const [name, role, o] of users) {
      passwords[name] = (await addUser({ dataDir, username: name, role, ...o })).password;
    }
    for (const name of Object.keys(SEES_SITES) as Who[]) {
      const r = await fetch(`${env.base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: name, password: passwords[name] }),
      });
      tokens[name] = ((await r.json()) as { token: string }).token;
    }
  });
  afterAll(async () => env.close());

  /** Reports an inventory without any camera: five coverage gaps, each opening a hazard at once. */
  async function noCameras(site: string): Promise<void> {
    const c = await mqtt.connectAsync(env.mqttUrl, {
      clientId: `gw-${site}`,
      username: `gw-${site}`,
      password: env.secrets[site],
      reconnectPeriod: 0,
    });
    const head = { v: 1, siteId: site, gatewayId: `gw-${site}`, ts: new Date().toISOString() };
    await c.publishAsync(siteTopic(site, 'status'), JSON.stringify({ ...head, state: 'online' }), { qos: 1 });
    await c.publishAsync(siteTopic(site, 'inventory'), JSON.stringify({ ...head, devices: [] }), {
      qos: 1,
      retain: true,
    });
    await until(async () => (await env.central.hazards.list({ siteIds: [site] })).length === 5, 15_000);
    await env.central.hazards.idle();
    await c.endAsync();
  }

  it('delivers every accident and hazard change to exactly the users whose scope has the site', async () => {
    const who = Object.keys(SEES_SITES) as Who[];
    const socks = Object.fromEntries(
      await Promise.all(who.map(async (w) => [w, await supervisorSocket(env.base, tokens[w])] as const)),
    );
    for (const w of who) await socks[w]!.next((m) => m.type === 'snapshot');

    // site-b first, site-a last: the last site-a notice closes every user's stream
    const expected: Array<{ site: string; type: string; change: string }> = [];
    const classify = async (site: string) => {
      const r = await call('admin', '/api/accidents', { siteId: site, title: `跌倒受伤 ${site}` });
      expect(r.status).toBe(200);
      expected.push({ site, type: 'accident', change: 'classified' });
      return ((await r.json()) as { accident: { id: string } }).accident.id;
    };
    const accB = await classify('site-b');
    // the service's own deadline timer is tested with a manual clock (tests/alerts/accidents);
    // here its notices go through the central bus as the service emits them
    const detail = (await env.central.accidents.get(accB))!;
    env.central.bus.emit('accident.deadline_near', { accident: detail.accident, remainingS: 900 });
    env.central.bus.emit('accident.overdue', { accident: detail.accident, remainingS: -1 });
    expected.push(
      { site: 'site-b', type: 'accident', change: 'deadline_near' },
      { site: 'site-b', type: 'accident', change: 'overdue' },
    );
    await noCameras('site-b');
    for (let i = 0; i < 5; i++) expected.push({ site: 'site-b', type: 'hazard', change: 'opened' });
    const [hazB] = await env.central.hazards.list({ siteIds: ['site-b'] });
    expect((await call('admin', `/api/hazards/${hazB!.id}/close`, { note: '已加装摄像机' })).status).toBe(
      200,
    );
    expected.push({ site: 'site-b', type: 'hazard', change: 'closed' });

    const accA = await classify('site-a');
    const rep = await call('head-a', `/api/accidents/${accA}/reports`, {
      to: '区民政局值班室',
      channel: 'phone',
    });
    expect(rep.status).toBe(200);
    expected.push({ site: 'site-a', type: 'accident', change: 'reported' });
    await noCameras('site-a');
    for (let i = 0; i < 5; i++) expected.push({ site: 'site-a', type: 'hazard', change: 'opened' });
    const [hazA] = await env.central.hazards.list({ siteIds: ['site-a'] });
    const assigned = await call('head-a', `/api/hazards/${hazA!.id}/assign`, {
      responsible: '张主任',
      rectifyBy: new Date(Date.now() + 7 * 86400_000).toISOString(),
    });
    expect(assigned.status).toBe(200);
    expected.push({ site: 'site-a', type: 'hazard', change: 'assigned' });
    expect(
      (await call('head-a', `/api/hazards/${hazA!.id}/close`, { note: '摄像机已安装并录像' })).status,
    ).toBe(200);
    expected.push({ site: 'site-a', type: 'hazard', change: 'closed' });

    // the last change each user may see; a notice sent in error would follow within the grace time
    for (const w of who) {
      const last = SEES_SITES[w].includes('site-a') ? hazA!.id : hazB!.id;
      await socks[w]!.next((m) => {
        const x = m as unknown as Msg;
        return x.type === 'hazard' && x.change === 'closed' && x.hazard?.id === last;
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const w of who) {
      const s = socks[w]!;
      const got = (s.messages as unknown as Msg[])
        .filter((m) => m.type === 'accident' || m.type === 'hazard')
        .map((m) => ({ site: (m.accident ?? m.hazard)!.siteId, type: m.type, change: m.change! }));
      const want = expected.filter((e) => SEES_SITES[w].includes(e.site));
      const key = (e: { site: string; type: string; change: string }) => `${e.site}/${e.type}/${e.change}`;
      expect(got.map(key).sort(), w).toEqual(want.map(key).sort());
      s.close();
    }
    // the payloads carry what the views need
    const adminMsgs = socks.admin!.messages as unknown as Msg[];
    const reported = adminMsgs.find((m) => m.type === 'accident' && m.change === 'reported')!;
    expect(reported.accident).toMatchObject({ id: accA, state: 'reported' });
    expect(reported.report).toMatchObject({ toWhom: '区民政局值班室' });
    const classified = adminMsgs.find((m) => m.type === 'accident' && m.change === 'classified')!;
    expect(classified.remainingS).toBeGreaterThan(3500);
    const closed = adminMsgs.filter((m) => m.type === 'hazard' && m.change === 'closed');
    expect(closed.map((m) => m.hazard!.state)).toEqual(['closed', 'closed']);
  });
});
