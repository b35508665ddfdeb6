import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gb26875DeviceSim } from '../../simulators/gb26875/device.js';
import { type Proc, requireBuild, tempDir, until } from '../helpers/procs.js';
import { api, login, type Setup, setupSite, startCentral, startGateway } from '../helpers/site.js';
import { supervisorSocket } from '../helpers/ws.js';

describe('fire alarm system (GB/T 26875.3 transmission device) → gateway → central, as separate processes', () => {
  const dir = tempDir('cw-gb-e2e-');
  let s: Setup;
  let central: Proc;
  let gateway: Proc;
  let device: Gb26875DeviceSim;

  beforeAll(async () => {
    requireBuild();
    s = await setupSite(dir.path, {
      extra: {
        gb26875: { host: '127.0.0.1', port: 0, devices: [{ address: 7, label: '一号楼用户信息传输装置' }] },
      },
    });
    central = await startCentral(s);
    gateway = await startGateway(s);
    await gateway.waitFor(/connected to central/);
    const port = Number(gateway.output().match(/gb26875=(\d+)/)![1]);
    device = new Gb26875DeviceSim({
      host: '127.0.0.1',
      port,
      address: 7,
      answerPostCheck: true,
      operator: 12,
    });
    await device.connect();
  });
  afterAll(async () => {
    await device?.close();
    await gateway?.kill();
    await central?.kill();
    dir.cleanup();
  });

  it('turns a detector fire into a critical alert and its restore resolves it', async () => {
    const sup = await supervisorSocket(s.base, await login(s));
    const fire = await device.fire('3F-corridor');
    expect(fire.confirmed).toBe(true);
    const opened = await sup.next((m) => m.change === 'opened' && m.alert?.type === 'fire_alarm');
    expect(opened.alert).toMatchObject({ severity: 'critical', state: 'open' });
    expect(opened.alert!.source.startsWith('fire-7:')).toBe(true);
    const restore = await device.restore('3F-corridor');
    expect(restore.confirmed).toBe(true);
    await sup.next((m) => m.change === 'resolved' && m.alert?.id === opened.alert!.id);
    sup.close();
  });

  it("carries a remote post check to the device (type 91) and records the operator's answer", async () => {
    const token = await login(s);
    const issued = await api<{ postCheck: { id: string } }>(s, token, '/api/fire-room/site-a/post-checks', {
      method: 'POST',
    });
    expect(issued.status).toBe(200);
    const answered = await until(async () => {
      const room = await api<{
        postChecks: Array<{ id: string; state: string; via: string | null; answeredBy: string | null }>;
      }>(s, token, '/api/fire-room/site-a');
      const c = room.body.postChecks.find((x) => x.id === issued.body.postCheck.id);
      return c?.state === 'answered' ? c : undefined;
    }, 20_000);
    expect(answered).toMatchObject({ via: 'gb26875', answeredBy: 'operator:12' });
  });
});
