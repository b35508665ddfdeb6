import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cli, type Proc, requireBuild, tempDir, until } from '../helpers/procs.js';
import { api, login, setupSite, startCentral, startGateway } from '../helpers/site.js';

type Audit = { action: string; level: number | null; at: number; note: string | null };
type AlertView = { id: string; openedAt: number; state: string; escalationLevel: number };

/**
 * Reminders at 2 s and 4 s after the call, the head called at 6 s and reminded once 2 s later.
 * Short real waits: these processes run on the system clock.
 */
const CHAIN = {
  alerts: {
    escalation: {
      chains: [
        {
          name: 'calls',
          types: ['emergency_call'],
          levels: [
            { name: 'on_duty', waitS: 6, repeats: 2 },
            { name: 'institution_head', waitS: 60, repeats: 1, repeatEveryS: 2 },
          ],
        },
      ],
    },
  },
};

describe('escalation repeats across a SIGKILL of the central (real processes)', () => {
  const procs: Proc[] = [];
  const dirs: Array<{ cleanup: () => void }> = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill('SIGKILL');
    for (const d of dirs.splice(0)) d.cleanup();
  });

  it('a central killed between two reminders sends each reminder once and still climbs', async () => {
    requireBuild();
    const dir = tempDir('cw-repkill-');
    dirs.push(dir);
    const s = await setupSite(dir.path, { devices: ['btn-1'] });
    const centralYaml = join(dir.path, 'central.yaml');
    writeFileSync(centralYaml, stringify(CHAIN));
    let central = await startCentral(s, ['--config', centralYaml]);
    procs.push(central);
    const gw = await startGateway(s);
    procs.push(gw);
    await gw.waitFor(/connected to central/);
    const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, { clientId: 'dev-repkill' });
    await dev.publishAsync('zigbee2mqtt/btn-1', JSON.stringify({ action: 'single' }), { qos: 1 });
    await dev.endAsync();

    let token = await login(s);
    const alert = await until(async () => {
      const r = await api<{ alerts: AlertView[] }>(s, token, '/api/alerts?limit=10');
      return r.body.alerts.find((a) => a.state === 'open');
    }, 15_000);
    const audit = async () =>
      (await api<{ audit: Audit[] }>(s, token, `/api/alerts/${alert.id}`)).body.audit.filter(
        (a) => a.action === 'renotified' || a.action === 'escalated',
      );
    // the first reminder is recorded; the central dies before the second one
    await until(async () => ((await audit()).length >= 1 ? true : undefined), 15_000, 20);
    await central.kill('SIGKILL');
    central = await startCentral(s, ['--config', centralYaml]);
    procs.push(central);
    token = await login(s);
    const steps = await until(async () => {
      const a = await audit();
      return a.length >= 4 ? a : undefined;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 3_000)); // the top level has no more reminders
    const final = await audit();
    console.log(
      `repeats across SIGKILL: ${final.map((a) => `${a.action}@L${a.level} +${a.at - alert.openedAt} ms (${a.note ?? '-'})`).join(', ')}`,
    );
    expect(final).toEqual(steps);
    expect(final.map((a) => [a.action, a.level])).toEqual([
      ['renotified', 0],
      ['renotified', 0],
      ['escalated', 1],
      ['renotified', 1],
    ]);
    expect(
      final.filter((a) => a.action === 'renotified').map((a) => a.note?.replace(/ \(.*\)$/, '')),
    ).toEqual(['repeat 1 of 2', 'repeat 2 of 2', 'repeat 1 of 1']);
    // none came before its time: 2 s and 4 s after the call, the climb at 6 s
    expect(final[0]!.at - alert.openedAt).toBeGreaterThanOrEqual(2_000);
    expect(final[1]!.at - alert.openedAt).toBeGreaterThanOrEqual(4_000);
    expect(final[2]!.at - alert.openedAt).toBeGreaterThanOrEqual(6_000);
    expect(final[3]!.at - final[2]!.at).toBeGreaterThanOrEqual(2_000);
  }, 90_000);

  it('refuses a chain whose reminders do not fit, naming the field', async () => {
    requireBuild();
    const dir = tempDir('cw-repcfg-');
    dirs.push(dir);
    const f = join(dir.path, 'central.yaml');
    writeFileSync(
      f,
      stringify({
        dataDir: join(dir.path, 'c'),
        alerts: {
          escalation: {
            chains: [{ name: 'x', levels: [{ name: 'a', waitS: 30, repeats: 1, repeatEveryS: 45 }] }],
          },
        },
      }),
    );
    const p = cli(['central', '--config', f]);
    const code = await new Promise<number | null>((r) => p.child.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(p.output()).toContain('/alerts/escalation/chains/0/levels/0/repeatEveryS');
    expect(p.output()).toContain("longer than the level's waitS (30 s)");
  }, 30_000);
});
