import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRegion, addUser } from '../../cli/provision.js';
import { FIRE_ALERT_TYPES } from '../../dashboard/scope.js';
import { buildEnvelope, type Envelope, siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';
import { supervisorSocket } from '../helpers/ws.js';

/**
 * The role × endpoint × own/foreign matrix. Regions: P > C1 > {D1: site-a, D2: site-b}.
 * Each site has an open emergency call and an open fire alarm.
 */
type Who = 'admin' | 'head-a' | 'staff-a' | 'civil-d1' | 'civil-c1' | 'fire-d1';

const SEES_SITES: Record<Who, string[]> = {
  admin: ['site-a', 'site-b'],
  'head-a': ['site-a'],
  'staff-a': ['site-a'],
  'civil-d1': ['site-a'],
  'civil-c1': ['site-a', 'site-b'],
  'fire-d1': ['site-a'],
};
const SEES_TYPES: Record<Who, string[]> = {
  admin: ['emergency_call', 'fire_alarm'],
  'head-a': ['emergency_call', 'fire_alarm'],
  'staff-a': ['emergency_call', 'fire_alarm'],
  'civil-d1': ['emergency_call', 'fire_alarm'],
  'civil-c1': ['emergency_call', 'fire_alarm'],
  'fire-d1': ['fire_alarm'],
};
const SEES_TYPES_KNOWN = { emergency_call: true, fire_alarm: true };
const CAN = {
  admin: { ack: true, resolve: true, command: true },
  'head-a': { ack: true, resolve: true, command: true },
  'staff-a': { ack: true, resolve: true, command: false },
  'civil-d1': { ack: true, resolve: false, command: false },
  'civil-c1': { ack: true, resolve: false, command: false },
  'fire-d1': { ack: true, resolve: false, command: false },
} satisfies Record<Who, { ack: boolean; resolve: boolean; command: boolean }>;

describe('role and scope matrix: every role × endpoint × own/foreign site', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  const tokens = {} as Record<Who, string>;
  type A = { id: string; siteId: string; type: string; state: string };
  let alerts: A[] = [];

  const call = (t: string, path: string, init: RequestInit = {}) =>
    fetch(`${env.base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${t}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
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
      ['staff-a', 'institution_staff', { sites: 'site-a' }],
      ['civil-d1', 'civil_affairs', { region: 'D1' }],
      ['civil-c1', 'civil_affairs', { region: 'C1' }],
      ['fire-d1', 'fire_rescue', { region: 'D1' }],
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
    for (const site of ['site-a', 'site-b']) {
      const c = await mqtt.connectAsync(env.mqttUrl, {
        clientId: `gw-${site}`,
        username: `gw-${site}`,
        password: env.secrets[site],
        reconnectPeriod: 0,
      });
      const evs: Envelope[] = [
        buildEnvelope({
          kind: 'emergency_call',
          siteId: site,
          deviceId: 'btn-1',
          seq: 0,
          data: { action: 'pressed' },
        }),
        buildEnvelope({
          kind: 'panel_alarm',
          siteId: site,
          deviceId: 'fire-panel',
          seq: 0,
          data: { protocol: 'gb26875', category: 'fire', qualifier: 'new', code: 'part:fire', zone: '3F' },
        }),
      ];
      for (const e of evs) await c.publishAsync(siteTopic(site, 'events'), JSON.stringify(e), { qos: 1 });
      await c.endAsync();
    }
    await env.central.alerts.idle();
    alerts = (await env.central.store.alerts.list({})) as A[];
    expect(alerts).toHaveLength(4);
  });
  afterAll(async () => env.close());

  /** The seeded types as the table says; types raised later (fire room) by the fire-related list. */
  const visible = (who: Who, a: A) =>
    SEES_SITES[who].includes(a.siteId) &&
    (a.type in SEES_TYPES_KNOWN
      ? SEES_TYPES[who].includes(a.type)
      : who !== 'fire-d1' || (FIRE_ALERT_TYPES as readonly string[]).includes(a.type));

  it('lists exactly the alerts, sites and events in scope', async () => {
    for (const who of Object.keys(SEES_SITES) as Who[]) {
      const list = (await (await call(tokens[who], '/api/alerts')).json()) as { alerts: A[] };
      expect(list.alerts.map((a) => a.id).sort(), who).toEqual(
        alerts
          .filter((a) => visible(who, a))
          .map((a) => a.id)
          .sort(),
      );
      const sites = (await (await call(tokens[who], '/api/sites')).json()) as {
        sites: Array<{ id: string }>;
      };
      expect(sites.sites.map((s) => s.id).sort(), who).toEqual(SEES_SITES[who]);
      const events = (await (await call(tokens[who], '/api/events')).json()) as {
        events: Array<{ siteId: string; kind: string }>;
      };
      for (const e of events.events) {
        expect(SEES_SITES[who], who).toContain(e.siteId);
        if (who === 'fire-d1') expect(e.kind).toBe('panel_alarm');
      }
      expect(events.events.length, who).toBeGreaterThan(0);
    }
  });

  it('answers reads of out-of-scope alerts like missing ones', async () => {
    for (const who of Object.keys(SEES_SITES) as Who[]) {
      for (const a of alerts) {
        const r = await call(tokens[who], `/api/alerts/${a.id}`);
        expect(r.status, `${who} GET ${a.siteId}/${a.type}`).toBe(visible(who, a) ? 200 : 404);
      }
    }
  });

  it('allows acknowledge and resolve only by capability and only in scope', async () => {
    for (const who of Object.keys(SEES_SITES) as Who[]) {
      for (const a of alerts) {
        for (const action of ['ack', 'resolve'] as const) {
          const before = (await env.central.store.alerts.get(a.id))!;
          const r = await call(tokens[who], `/api/alerts/${a.id}/${action}`, { method: 'POST', body: '{}' });
          const allowed = visible(who, a) && CAN[who][action];
          const label = `${who} ${action} ${a.siteId}/${a.type}`;
          if (!visible(who, a)) expect(r.status, label).toBe(404);
          else if (!CAN[who][action]) expect(r.status, label).toBe(403);
          else expect([200, 409], label).toContain(r.status); // 409: someone already moved it on
          const after = (await env.central.store.alerts.get(a.id))!;
          if (!allowed) expect(after.state, label).toBe(before.state);
        }
      }
    }
  });

  it('allows gateway commands only to roles that may send them, in scope', async () => {
    for (const who of Object.keys(SEES_SITES) as Who[]) {
      for (const site of ['site-a', 'site-b']) {
        const r = await call(tokens[who], `/api/sites/${site}/commands/ping`, {
          method: 'POST',
          body: '{"timeoutS":0.1}',
        });
        const label = `${who} command ${site}`;
        if (!SEES_SITES[who].includes(site)) expect(r.status, label).toBe(404);
        else if (!CAN[who].command) expect(r.status, label).toBe(403);
        else expect(r.status, label).toBe(200);
      }
    }
  });

  it('fire-control room: reads in scope, records only by roles that may change them', async () => {
    for (const who of Object.keys(SEES_SITES) as Who[]) {
      for (const site of ['site-a', 'site-b']) {
        const inScope = SEES_SITES[who].includes(site);
        const label = `${who} fire-room ${site}`;
        expect((await call(tokens[who], `/api/fire-room/${site}`)).status, label).toBe(inScope ? 200 : 404);
        const before = (await env.central.store.fireRoom.dutyLog(site, 100)).length;
        const writes = [
          ['duty-log', { kind: 'note', body: { text: `${who} was here` } }],
          ['handovers', { fromOperators: ['op-1'], toOperators: ['op-2'], note: `${who} handover` }],
        ] as const;
        for (const [path, body] of writes) {
          const r = await call(tokens[who], `/api/fire-room/${site}/${path}`, {
            method: 'POST',
            body: JSON.stringify(body),
          });
          expect(r.status, `${label} POST ${path}`).toBe(!inScope ? 404 : CAN[who].resolve ? 200 : 403);
        }
        const after = (await env.central.store.fireRoom.dutyLog(site, 100)).length;
        expect(after - before, label).toBe(inScope && CAN[who].resolve ? 1 : 0);
      }
    }
  });

  it('silences: created and ended only in scope by roles that may resolve, listed in scope', async () => {
    for (const who of Object.keys(SEES_SITES) as Who[]) {
      for (const site of ['site-a', 'site-b']) {
        const r = await call(tokens[who], '/api/silences', {
          method: 'POST',
          body: JSON.stringify({ siteId: site, type: 'low_battery', durationS: 600, reason: `${who} test` }),
        });
        const inScope = SEES_SITES[who].includes(site);
        expect(r.status, `${who} silence ${site}`).toBe(!inScope ? 404 : CAN[who].resolve ? 200 : 403);
      }
    }
    const all = await env.central.store.silences.active(Date.now());
    expect(all.map((x) => x.reason).sort()).toEqual(
      ['admin test', 'admin test', 'head-a test', 'staff-a test'].sort(),
    );
    for (const who of Object.keys(SEES_SITES) as Who[]) {
      const list = (await (await call(tokens[who], '/api/silences')).json()) as {
        silences: Array<{ siteId: string }>;
      };
      expect([...new Set(list.silences.map((x) => x.siteId))].sort(), who).toEqual(
        SEES_SITES[who].filter((site) => all.some((x) => x.siteId === site)),
      );
    }
    // roles that may not end a silence try first, then those that may
    const order = (Object.keys(SEES_SITES) as Who[]).sort(
      (a, b) => Number(CAN[a].resolve) - Number(CAN[b].resolve),
    );
    for (const who of order) {
      for (const x of all) {
        const r = await call(tokens[who], `/api/silences/${x.id}`, { method: 'DELETE' });
        const label = `${who} end ${x.siteId}`;
        if (!SEES_SITES[who].includes(x.siteId)) expect(r.status, label).toBe(404);
        else if (!CAN[who].resolve) expect(r.status, label).toBe(403);
        else expect([200, 404], label).toContain(r.status); // 404: another role ended it already
      }
      if (!CAN[who].resolve) expect(await env.central.store.silences.active(Date.now()), who).toHaveLength(4);
    }
    expect(await env.central.store.silences.active(Date.now())).toEqual([]);
  });

  it('coverage and its CSV, the event PDF and the alert chart stay in scope', async () => {
    for (const who of Object.keys(SEES_SITES) as Who[]) {
      const cov = (await (await call(tokens[who], '/api/coverage')).json()) as {
        sites: Array<{ siteId: string }>;
      };
      expect(cov.sites.map((x) => x.siteId).sort(), who).toEqual(SEES_SITES[who]);
      const csv = await (await call(tokens[who], '/api/coverage.csv')).text();
      for (const site of ['site-a', 'site-b'])
        expect(csv.includes(site), `${who} coverage.csv ${site}`).toBe(SEES_SITES[who].includes(site));
      // a foreign site asked for by name gives an empty archive, not that site's events
      const foreign = ['site-a', 'site-b'].find((x) => !SEES_SITES[who].includes(x));
      if (foreign) {
        const ev = (await (await call(tokens[who], `/api/events?siteId=${foreign}`)).json()) as {
          events: unknown[];
        };
        expect(ev.events, `${who} events of ${foreign}`).toEqual([]);
      }
      for (const set of ['events', 'alerts', 'duty', 'handovers']) {
        const a = (await (await call(tokens[who], `/api/archive/${set}`)).json()) as { rows: string[][] };
        // the site is the second column of every archive set
        for (const r of a.rows) expect(SEES_SITES[who], `${who} archive ${set}`).toContain(r[1]);
        if (set === 'alerts')
          expect(a.rows.length, `${who} archive alerts`).toBe(
            ((await env.central.store.alerts.list({})) as A[]).filter((x) => visible(who, x)).length,
          );
      }
      const pdf = await call(tokens[who], '/api/events.pdf');
      expect(pdf.status, `${who} pdf`).toBe(200);
      expect(pdf.headers.get('content-type')).toContain('application/pdf');
      expect((await pdf.arrayBuffer()).byteLength, `${who} pdf`).toBeGreaterThan(0);
      const chart = await call(tokens[who], '/api/charts/alerts');
      expect(chart.status, `${who} chart`).toBe(200);
      await chart.json();
    }
  });

  it('pushes over the WebSocket only what the role may see', async () => {
    for (const who of Object.keys(SEES_SITES) as Who[]) {
      const sup = await supervisorSocket(env.base, tokens[who]);
      const snap = await sup.next((m) => m.type === 'snapshot');
      const ids = (snap.alerts ?? []).map((a) => a.id).sort();
      const expected = (await env.central.store.alerts.list({ states: ['open', 'acknowledged'] }))
        .filter((a) => visible(who, a as A))
        .map((a) => a.id)
        .sort();
      expect(ids, who).toEqual(expected);
      sup.close();
    }
  });
});
