import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, type Proc, requireBuild, tempDir } from '../helpers/procs.js';
import { api, login, type Setup, setupSite, startCentral, startGateway } from '../helpers/site.js';
import { supervisorSocket } from '../helpers/ws.js';

describe('fire-control room over real processes: attendance, understaffing, post checks', () => {
  const dir = tempDir('cw-fireroom-e2e-');
  let s: Setup;
  let central: Proc;
  let gateway: Proc;
  let badge: MqttClient;

  beforeAll(async () => {
    requireBuild();
    s = await setupSite(dir.path, {
      extra: {
        attendance: { devices: [{ deviceId: 'badge-1', source: 'badge', room: '消防控制室' }] },
        metrics: { host: '127.0.0.1', port: 0 },
      },
    });
    const cfg = join(dir.path, 'central.yaml');
    writeFileSync(cfg, 'fireRoom:\n  postCheckDeadlineS: 2\n  checkEveryS: 0.2\n');
    central = await startCentral(s, ['--config', cfg]);
    gateway = await startGateway(s);
    await gateway.waitFor(/connected to central/);
    badge = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, { clientId: 'badge-reader' });
  });
  afterAll(async () => {
    await badge?.endAsync();
    await gateway?.kill();
    await central?.kill();
    dir.cleanup();
  });

  const swipe = (action: 'check_in' | 'check_out', operatorId: string) =>
    badge.publishAsync('attendance/badge-1', JSON.stringify({ action, operatorId }), { qos: 1 });

  it('raises understaffing when one of two operators leaves, and records post checks answered and missed', async () => {
    const token = await login(s);
    for (const id of ['op-1', 'op-2']) {
      const r = await api(s, token, '/api/fire-room/site-a/operators', {
        method: 'PUT',
        body: JSON.stringify({
          id,
          name: `值班员${id}`,
          certificateNo: `XF-${id}`,
          certificateExpiresAt: '2099-12-31',
        }),
      });
      expect(r.status).toBe(200);
    }
    const bad = await api<{ error: { message: string } }>(s, token, '/api/fire-room/site-a/operators', {
      method: 'PUT',
      body: JSON.stringify({ id: 'op-9', name: 'x', certificateNo: 'XF-9', certificateExpiresAt: 'soon' }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('certificateExpiresAt');

    const sup = await supervisorSocket(s.base, token);
    await swipe('check_in', 'op-1');
    await swipe('check_in', 'op-2');
    await sup.next((m) => m.change === 'resolved' && m.alert?.type === 'fire_room_understaffed');
    await swipe('check_out', 'op-2');
    const under = await sup.next((m) => m.change === 'opened' && m.alert?.type === 'fire_room_understaffed');
    expect(under.alert!.siteId).toBe('site-a');

    type PC = { postCheck: { id: string; state: string } };
    const first = await api<PC>(s, token, '/api/fire-room/site-a/post-checks', { method: 'POST' });
    const answered = await api<PC>(
      s,
      token,
      `/api/fire-room/site-a/post-checks/${first.body.postCheck.id}/answer`,
      {
        method: 'POST',
      },
    );
    expect(answered.body.postCheck.state).toBe('answered');
    const second = await api<PC>(s, token, '/api/fire-room/site-a/post-checks', { method: 'POST' });
    const missed = await sup.next(
      (m) => m.change === 'opened' && m.alert?.type === 'post_check_missed',
      10_000,
    );
    expect(missed.alert!.source).toBe(`post-check:${second.body.postCheck.id}`);

    const room = await api<{
      status: { certifiedPresent: number };
      postChecks: Array<{ id: string; state: string }>;
      attendance: unknown[];
    }>(s, token, '/api/fire-room/site-a');
    expect(room.body.status.certifiedPresent).toBe(1);
    expect(Object.fromEntries(room.body.postChecks.map((c) => [c.id, c.state]))).toEqual({
      [first.body.postCheck.id]: 'answered',
      [second.body.postCheck.id]: 'missed',
    });
    expect(room.body.attendance).toHaveLength(3);
    sup.close();
  });

  it('serves the gateway metrics, health and readiness, and backs up the central store while it runs', async () => {
    const ops = Number(gateway.output().match(/ops=(\d+)/)![1]);
    const metrics = await (await fetch(`http://127.0.0.1:${ops}/metrics`)).text();
    expect(metrics).toContain('carewatch_gateway_outbox_depth');
    expect(metrics).toMatch(/carewatch_gateway_uplink_connected 1/);
    expect((await fetch(`http://127.0.0.1:${ops}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ops}/nope`)).status).toBe(404);

    const out = join(dir.path, 'backup.db');
    const b = cli(['backup', '--data-dir', s.centralDir, '--out', out]);
    await b.waitFor(/backup .*pages/);
    const copy = new Database(out, { readonly: true });
    const n = (copy.prepare('SELECT count(*) AS n FROM attendance_log').get() as { n: number }).n;
    copy.close();
    expect(n).toBe(3);
  });
});
