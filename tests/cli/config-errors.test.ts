import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, requireBuild, tempDir } from '../helpers/procs.js';

describe('configuration errors stop the process with the field and the problem', () => {
  const dir = tempDir('cw-cfg-');
  afterAll(() => dir.cleanup());

  const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    requireBuild();
    const p = cli(args, env);
    const code = await new Promise<number | null>((r) => p.child.on('exit', (c) => r(c)));
    return { code, out: p.output() };
  };

  it('names a bad gateway field', async () => {
    const f = join(dir.path, 'bad.yaml');
    writeFileSync(f, 'siteId: "bad site"\ngatewayId: gw\ndataDir: /tmp/x\ncentral:\n  url: http://nope\n');
    const { code, out } = await run(['gateway', '--config', f], {
      CAREWATCH_GATEWAY_PASSWORD: 'long-enough-secret',
    });
    expect(code).toBe(2);
    expect(out).toContain('/siteId');
    expect(out).toContain('/central/url');
  });

  it('refuses unknown fields and invalid YAML', async () => {
    const f = join(dir.path, 'extra.yaml');
    writeFileSync(
      f,
      'siteId: s\ngatewayId: gw\ndataDir: /tmp/x\ncentral: {url: "mqtt://127.0.0.1:1"}\nbuttonz: []\n',
    );
    const a = await run(['gateway', '--config', f], { CAREWATCH_GATEWAY_PASSWORD: 'long-enough-secret' });
    expect(a.code).toBe(2);
    expect(a.out).toContain("must NOT have additional properties 'buttonz'");
    const y = join(dir.path, 'broken.yaml');
    writeFileSync(y, 'siteId: [unclosed\n');
    const b = await run(['gateway', '--config', y]);
    expect(b.code).toBe(2);
    expect(b.out).toContain('not valid YAML');
  });

  it('requires the gateway password and names the central config field', async () => {
    const f = join(dir.path, 'nopw.yaml');
    writeFileSync(f, 'siteId: s\ngatewayId: gw\ndataDir: /tmp/x\ncentral: {url: "mqtt://127.0.0.1:1"}\n');
    const a = await run(['gateway', '--config', f]);
    expect(a.code).toBe(2);
    expect(a.out).toContain('/password');
    const c = join(dir.path, 'central.yaml');
    writeFileSync(c, 'alerts:\n  escalation:\n    ackTimeoutS: -5\n');
    const b = await run(['central', '--config', c]);
    expect(b.code).toBe(2);
    expect(b.out).toContain('/alerts/escalation/ackTimeoutS');
  });

  it('refuses --retire for an embedded central (it has no broker sessions to retire)', async () => {
    const c = join(dir.path, 'embedded.yaml');
    writeFileSync(c, `dataDir: ${join(dir.path, 'retire-data')}\nmqtt: {port: 0}\nhttp: {port: 0}\n`);
    const { code, out } = await run(['central', '--config', c, '--retire']);
    expect(code).toBe(2);
    expect(out).toContain('--retire: only an instance on an external broker (/mqtt/mode: external)');
  });

  it('refuses an alert rule that both opens and resolves, naming the rule', async () => {
    const c = join(dir.path, 'rules.yaml');
    writeFileSync(
      c,
      'alerts:\n  rules:\n    - name: both\n      kind: emergency_call\n      open: {type: a, severity: info, title: t}\n      resolve: {type: a, note: n}\n',
    );
    const r = await run(['central', '--config', c]);
    expect(r.code).toBe(2);
    expect(r.out).toContain('/alerts/rules/0');
    expect(r.out).toContain("rule 'both' must have exactly one of open, resolve or ignore");
  });
});
