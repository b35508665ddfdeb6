import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dc09Dialler } from '../../simulators/dc09/dialler.js';
import { type Proc, requireBuild, tempDir } from '../helpers/procs.js';
import { login, type Setup, setupSite, startCentral, startGateway } from '../helpers/site.js';
import { supervisorSocket } from '../helpers/ws.js';

describe('alarm panel (SIA DC-09, Contact ID) → gateway → central → supervisor, as separate processes', () => {
  const dir = tempDir('cw-panel-e2e-');
  let s: Setup;
  let central: Proc;
  let gateway: Proc;
  let port: number;

  beforeAll(async () => {
    requireBuild();
    s = await setupSite(dir.path, {
      extra: {
        dc09: {
          host: '127.0.0.1',
          tcpPort: 0,
          udpPort: null,
          accounts: [{ account: '1234', label: '一号楼报警主机' }],
        },
      },
    });
    central = await startCentral(s);
    gateway = await startGateway(s);
    await gateway.waitFor(/connected to central/);
    port = Number(gateway.output().match(/dc09=(\d+)/)![1]);
  });
  afterAll(async () => {
    await gateway?.kill();
    await central?.kill();
    dir.cleanup();
  });

  it('turns a fire alarm into a critical alert on the WebSocket, and its restore resolves it; a replay changes nothing', async () => {
    const sup = await supervisorSocket(s.base, await login(s));
    const panel = new Dc09Dialler({ host: '127.0.0.1', port, proto: 'tcp', account: '1234', format: 'cid' });
    const fire = await panel.sendEvent({ code: 'fire', zone: 3 });
    expect(fire.type).toBe('ACK');
    const opened = await sup.next((m) => m.change === 'opened' && m.alert?.type === 'fire_alarm');
    expect(opened.alert).toMatchObject({ severity: 'critical', source: 'panel-1234:3', state: 'open' });

    // the same frame again (an ACK lost on the way): acknowledged, not a second alarm
    const again = await panel.sendFrame(fire.frame);
    expect(again.type).toBe('ACK');

    const restore = await panel.sendEvent({ code: 'fire', qualifier: 'restore', zone: 3 });
    expect(restore.type).toBe('ACK');
    const resolved = await sup.next((m) => m.change === 'resolved' && m.alert?.id === opened.alert!.id);
    expect(resolved.alert!.state).toBe('resolved');
    expect(sup.messages.filter((m) => m.change === 'opened' && m.alert?.type === 'fire_alarm')).toHaveLength(
      1,
    );
    expect(sup.messages.filter((m) => m.change === 'repeated')).toHaveLength(0);
    await panel.close();
    sup.close();
  });
});
