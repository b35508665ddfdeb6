import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { addUser } from '../../cli/provision.js';
import { buildEnvelope, siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';
import { supervisorSocket } from '../helpers/ws.js';

describe('HTTP API and WebSocket: sessions, CSRF, role scope', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  let staffA: string;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${env.base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const login = async (username: string, password: string) => {
    const r = await post('/api/session', { username, password });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { token: string; csrf: string };
    return { ...body, cookie: r.headers.get('set-cookie')!.split(';')[0]! };
  };
  const raise = async (site: string, device: string) => {
    const c = await mqtt.connectAsync(env.mqttUrl, {
      clientId: `gw-${site}`,
      username: `gw-${site}`,
      password: env.secrets[site],
      reconnectPeriod: 0,
    });
    const e = buildEnvelope({
      kind: 'emergency_call',
      siteId: site,
      deviceId: device,
      seq: 0,
      data: { action: 'pressed' },
    });
    await c.publishAsync(siteTopic(site, 'events'), JSON.stringify(e), { qos: 1 });
    await c.endAsync();
    await env.central.alerts.idle();
  };

  beforeAll(async () => {
    env = await inProcessCentral();
    // users are added while the central runs: the store is shared through the SQLite file
    staffA = (
      await addUser({ dataDir: env.dir, username: 'nurse-a', role: 'institution_staff', sites: 'site-a' })
    ).password;
    await raise('site-a', 'btn-a1');
    await raise('site-b', 'btn-b1');
  });
  afterAll(async () => env.close());

  it('refuses a wrong password, a malformed body and requests without a session', async () => {
    const bad = await post('/api/session', { username: 'admin', password: 'wrong-password' });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('LOGIN_FAILED');
    const malformed = await post('/api/session', { username: 'admin' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { message: string } }).error.message).toContain('password');
    const anon = await fetch(`${env.base}/api/alerts`);
    expect(anon.status).toBe(401);
  });

  it('shows each user only the sites in scope, and answers foreign alerts like missing ones', async () => {
    const admin = await login('admin', env.adminPassword);
    const nurse = await login('nurse-a', staffA);
    const list = async (token: string) =>
      (
        (await (
          await fetch(`${env.base}/api/alerts`, { headers: { authorization: `Bearer ${token}` } })
        ).json()) as {
          alerts: Array<{ id: string; siteId: string }>;
        }
      ).alerts;
    const all = await list(admin.token);
    expect(all.map((a) => a.siteId).sort()).toEqual(['site-a', 'site-b']);
    const mine = await list(nurse.token);
    expect(mine.map((a) => a.siteId)).toEqual(['site-a']);
    const foreign = all.find((a) => a.siteId === 'site-b')!;
    const get = await fetch(`${env.base}/api/alerts/${foreign.id}`, {
      headers: { authorization: `Bearer ${nurse.token}` },
    });
    expect(get.status).toBe(404);
    const ack = await post(`/api/alerts/${foreign.id}/ack`, {}, { authorization: `Bearer ${nurse.token}` });
    expect(ack.status).toBe(404);
    expect((await env.central.store.alerts.get(foreign.id))!.state).toBe('open');
    const sites = (await (
      await fetch(`${env.base}/api/sites`, { headers: { authorization: `Bearer ${nurse.token}` } })
    ).json()) as {
      sites: Array<{ id: string }>;
    };
    expect(sites.sites.map((x) => x.id)).toEqual(['site-a']);
  });

  it('requires the CSRF token for cookie-authenticated changes', async () => {
    const nurse = await login('nurse-a', staffA);
    const mine = (await env.central.store.alerts.list({ siteIds: ['site-a'] }))[0]!;
    const noToken = await post(`/api/alerts/${mine.id}/ack`, {}, { cookie: nurse.cookie });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { error: { code: string } }).error.code).toBe('CSRF_INVALID');
    expect((await env.central.store.alerts.get(mine.id))!.state).toBe('open');
    const ok = await post(
      `/api/alerts/${mine.id}/ack`,
      { note: 'on my way' },
      { cookie: nurse.cookie, 'x-csrf-token': nurse.csrf },
    );
    expect(ok.status).toBe(200);
  });

  it('pushes only in-scope alerts to a supervisor socket and closes unauthenticated ones', async () => {
    const nurse = await login('nurse-a', staffA);
    const sup = await supervisorSocket(env.base, nurse.token);
    const snap = await sup.next((m) => m.type === 'snapshot');
    expect(snap.alerts!.every((a) => (a as unknown as { siteId: string }).siteId === 'site-a')).toBe(true);
    await raise('site-b', 'btn-b2');
    await raise('site-a', 'btn-a2');
    const got = await sup.next((m) => m.change === 'opened');
    expect(got.alert!.siteId).toBe('site-a');
    expect(sup.messages.filter((m) => m.alert?.siteId === 'site-b')).toEqual([]);
    sup.close();

    const anon = new WebSocket(`${env.base.replace('http', 'ws')}/api/ws`);
    const code = await new Promise<number>((r) => anon.on('close', (c) => r(c)));
    expect(code).toBe(4401);
  });

  it('rate-limits repeated login attempts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await post('/api/session', { username: 'ghost', password: 'x' })).status);
    expect(statuses).toContain(429);
  });

  it('serves Prometheus metrics and readiness', async () => {
    const m = await (await fetch(`${env.base}/metrics`)).text();
    expect(m).toContain('carewatch_ingest_events_total');
    expect((await fetch(`${env.base}/readyz`)).status).toBe(200);
  });

  it('creates, lists and ends silences within scope, refusing bad bodies', async () => {
    const nurse = await login('nurse-a', staffA);
    const auth = { authorization: `Bearer ${nurse.token}` };
    const bad = await post('/api/silences', { siteId: 'site-a', durationS: 5, reason: 'x' }, auth);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('durationS');
    const foreign = await post('/api/silences', { siteId: 'site-b', durationS: 600, reason: '维修' }, auth);
    expect(foreign.status).toBe(404);
    const ok = await post(
      '/api/silences',
      { siteId: 'site-a', type: 'camera_offline', durationS: 600, reason: '维修' },
      auth,
    );
    expect(ok.status).toBe(200);
    const { silence } = (await ok.json()) as { silence: { id: string } };
    const list = (await (await fetch(`${env.base}/api/silences`, { headers: auth })).json()) as {
      silences: Array<{ id: string }>;
    };
    expect(list.silences.map((x) => x.id)).toEqual([silence.id]);
    const end = await fetch(`${env.base}/api/silences/${silence.id}`, { method: 'DELETE', headers: auth });
    expect(((await end.json()) as { ended: boolean }).ended).toBe(true);
  });

  it('classifies an alert as a safety accident with a one-hour report deadline, and records the report', async () => {
    const admin = await login('admin', env.adminPassword);
    const auth = { authorization: `Bearer ${admin.token}` };
    const alert = (await env.central.store.alerts.list({ siteIds: ['site-a'] }))[0]!;
    const made = await post(
      '/api/accidents',
      { siteId: 'site-a', alertId: alert.id, title: '老人跌倒受伤 fall with injury' },
      auth,
    );
    expect(made.status).toBe(200);
    const { accident } = (await made.json()) as {
      accident: { id: string; deadlineAt: number; classifiedAt: number };
    };
    expect(accident.deadlineAt - accident.classifiedAt).toBe(3600_000);
    const rep = await post(
      `/api/accidents/${accident.id}/reports`,
      { to: '区民政局值班室', channel: 'phone' },
      auth,
    );
    expect(rep.status).toBe(200);
    const got = (await (
      await fetch(`${env.base}/api/accidents/${accident.id}`, { headers: auth })
    ).json()) as {
      accident: { state: string };
      reports: unknown[];
    };
    expect(got.accident.state).toBe('reported');
    expect(got.reports).toHaveLength(1);
  });
});
