import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, type Proc, requireBuild, tempDir } from '../helpers/procs.js';
import { api, login, type Setup, setupSite, startCentral, startGateway } from '../helpers/site.js';
import { supervisorSocket } from '../helpers/ws.js';

describe('emergency call button → supervisor screen, as separate processes', () => {
  const dir = tempDir('cw-e2e-');
  let s: Setup;
  let central: Proc;
  let gateway: Proc;
  let sim: Proc;

  beforeAll(async () => {
    requireBuild();
    s = await setupSite(dir.path);
    central = await startCentral(s);
    gateway = await startGateway(s);
    await gateway.waitFor(/connected to central/);
    sim = cli(['simulate', 'buttons', '--bus', `mqtt://127.0.0.1:${s.busPort}`, '--stdin']);
  });

  afterAll(async () => {
    await sim?.kill();
    await gateway?.kill();
    await central?.kill();
    dir.cleanup();
  });

  it('delivers the call as an alert over the WebSocket, takes an ack over REST, and resolves a bedside cancel', async () => {
    const token = await login(s);
    const sup = await supervisorSocket(s.base, token);
    await sup.next((m) => m.type === 'snapshot');

    sim.send('press btn-1');
    const opened = await sup.next((m) => m.change === 'opened' && m.alert?.source === 'btn-1');
    expect(opened.alert).toMatchObject({
      siteId: 'site-a',
      type: 'emergency_call',
      severity: 'critical',
      state: 'open',
    });
    const id = opened.alert!.id;

    const ack = await api<{ alert: { state: string; ackedBy: string } }>(s, token, `/api/alerts/${id}/ack`, {
      method: 'POST',
      body: JSON.stringify({ note: '护理员已到场' }),
    });
    expect(ack.status).toBe(200);
    expect(ack.body.alert).toMatchObject({ state: 'acknowledged', ackedBy: 'user:admin' });
    await sup.next((m) => m.change === 'acknowledged' && m.alert?.id === id);

    const again = await api<{ error: { code: string } }>(s, token, `/api/alerts/${id}/ack`, {
      method: 'POST',
      body: '{}',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALERT_TRANSITION_INVALID');

    sim.send('press btn-2; wait 50; cancel btn-2');
    const opened2 = await sup.next((m) => m.change === 'opened' && m.alert?.source === 'btn-2');
    const resolved = await sup.next((m) => m.change === 'resolved' && m.alert?.id === opened2.alert!.id);
    expect(resolved.alert).toMatchObject({ state: 'resolved', resolvedBy: 'device:btn-2' });

    const detail = await api<{ audit: Array<{ action: string; actor: string; note: string | null }> }>(
      s,
      token,
      `/api/alerts/${id}`,
    );
    expect(detail.body.audit.map((a) => [a.action, a.actor])).toEqual([
      ['opened', 'device:btn-1'],
      ['acknowledged', 'user:admin'],
    ]);
    expect(detail.body.audit[1]!.note).toBe('护理员已到场');
    sup.close();
  });

  it('shows the gateway online with a heartbeat', async () => {
    const token = await login(s);
    const r = await api<{
      sites: Array<{ id: string; gateways: Array<{ state: string; lastHeartbeatAt: number | null }> }>;
    }>(s, token, '/api/sites');
    expect(r.body.sites[0]!.gateways[0]!.state).toBe('online');
    expect(r.body.sites[0]!.gateways[0]!.lastHeartbeatAt).toBeGreaterThan(0);
  });

  it('sends a command to the gateway and records its reply; an unknown command is answered with an error', async () => {
    const token = await login(s);
    type C = {
      command: {
        status: string;
        reply: { ok: boolean; result?: { pong?: boolean }; error?: { code: string } };
      };
    };
    const ping = await api<C>(s, token, '/api/sites/site-a/commands/ping', { method: 'POST', body: '{}' });
    expect(ping.status).toBe(200);
    expect(ping.body.command.status).toBe('ok');
    expect(ping.body.command.reply.result?.pong).toBe(true);
    const unknown = await api<C>(s, token, '/api/sites/site-a/commands/self_destruct', {
      method: 'POST',
      body: '{}',
    });
    expect(unknown.body.command.status).toBe('failed');
    expect(unknown.body.command.reply.error?.code).toBe('COMMAND_UNKNOWN');
    const list = await api<{ commands: Array<{ name: string }> }>(s, token, '/api/sites/site-a/commands');
    expect(list.body.commands.map((c) => c.name).sort()).toEqual(['ping', 'self_destruct']);
  });
});
