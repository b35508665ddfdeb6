import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRegion, addUser } from '../../cli/provision.js';
import { haveChromium, launchChromium } from '../../lib/testkit/browser.js';
import { ROOT } from '../../lib/testkit/procs.js';
import { buildEnvelope, type Envelope, siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';
import { buildWebApp, openLoggedIn } from '../helpers/web.js';

const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');

describe('web app in a real browser (Debian Chromium via playwright-core)', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  let browser: Browser;
  let gw: MqttClient;
  const pw: Record<string, string> = {};
  let seq = 0;

  const publish = async (e: Envelope) => {
    await gw.publishAsync(siteTopic('site-a', 'events'), JSON.stringify(e), { qos: 1 });
  };
  const fire = (zone: string) =>
    buildEnvelope({
      kind: 'panel_alarm',
      siteId: 'site-a',
      deviceId: 'fire-panel-1',
      seq: seq++,
      data: {
        protocol: 'gb26875',
        category: 'fire',
        qualifier: 'new',
        code: 'part:fire',
        zone,
        text: '三楼走廊感烟探测器',
      },
    });

  const loginAs = (username: string): Promise<Page> =>
    openLoggedIn(browser, env.base, username, pw[username]!, { answer: '已到场处理', acceptDownloads: true });

  beforeAll(async () => {
    if (!haveChromium()) throw new Error('Chromium missing: .ci/run installs Debian chromium');
    buildWebApp();
    mkdirSync(SHOTS, { recursive: true });
    env = await inProcessCentral({ sites: ['site-a', 'site-b'] });
    await addRegion({ dataDir: env.dir, id: 'D1', name: '示范区', level: 'district' });
    await env.central.store.registry.upsertSite({ id: 'site-a', name: '阳光养老院', region: 'D1' });
    await env.central.store.registry.upsertSite({ id: 'site-b', name: '夕阳红养老院', region: null });
    pw.admin = env.adminPassword;
    pw['nurse-a'] = (
      await addUser({ dataDir: env.dir, username: 'nurse-a', role: 'institution_staff', sites: 'site-a' })
    ).password;
    pw['nurse-b'] = (
      await addUser({ dataDir: env.dir, username: 'nurse-b', role: 'institution_staff', sites: 'site-b' })
    ).password;
    pw['fire-d1'] = (
      await addUser({ dataDir: env.dir, username: 'fire-d1', role: 'fire_rescue', region: 'D1' })
    ).password;
    gw = await mqtt.connectAsync(env.mqttUrl, {
      clientId: 'gw-site-a',
      username: 'gw-site-a',
      password: env.secrets['site-a'],
    });
    await publish(
      buildEnvelope({
        kind: 'emergency_call',
        siteId: 'site-a',
        deviceId: 'btn-101',
        seq: seq++,
        data: { action: 'pressed', room: '101' },
      }),
    );
    // site-a reports its cameras: every required zone but the canteen
    const kept = new Date(Date.now() - 35 * 24 * 3600_000).toISOString();
    const cameras = ['entrance', 'reception_hall', 'duty_room', 'corridor'].map((zone) => ({
      deviceId: `cam-${zone}`,
      type: 'camera',
      zone,
      online: true,
      recording: true,
      oldestKeptAt: kept,
      continuityPct: 99.5,
      policyDays: 30,
      forecastDays: 48,
    }));
    await gw.publishAsync(
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
    await gw.publishAsync(
      siteTopic('site-a', 'inventory'),
      JSON.stringify({
        v: 1,
        siteId: 'site-a',
        gatewayId: 'gw-site-a',
        ts: new Date().toISOString(),
        devices: [
          ...cameras,
          { deviceId: 'btn-101', type: 'call_button' },
          { deviceId: 'fire-panel-1', type: 'fire_panel' },
        ],
      }),
      { qos: 1, retain: true },
    );
    await env.central.alerts.idle();
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.endAsync();
    await env?.close();
  });

  it('shows a new fire alarm on the board without reload, and acknowledges it', async () => {
    const page = await loginAs('admin');
    await page.waitForSelector('tr[data-type=emergency_call]');
    await publish(fire('3F'));
    const row = page.locator('tr[data-type=fire_alarm]');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('td').nth(0).textContent()).toBe('紧急');
    await page.screenshot({ path: join(SHOTS, 'alert-board.png') });
    await row.locator('button[data-action=ack]').click();
    await expect.poll(async () => row.locator('td.state').textContent(), { timeout: 10_000 }).toBe('已确认');
    const stored = (await env.central.store.alerts.list({ types: ['fire_alarm'] }))[0]!;
    expect(stored).toMatchObject({ state: 'acknowledged', ackedBy: 'user:admin' });
    const audit = await env.central.store.alerts.audit(stored.id);
    expect(audit.at(-1)!.note).toBe('已到场处理');
    await page.click('#lang');
    expect(await row.locator('td.state').textContent()).toBe('acknowledged');
    await page.close();
  });

  it('shows each role only what it may see', async () => {
    const nurseB = await loginAs('nurse-b');
    expect(await nurseB.locator('#alert-board tbody tr').count()).toBe(0);
    await nurseB.close();
    const fireD1 = await loginAs('fire-d1');
    await fireD1.waitForSelector('tr[data-type=fire_alarm]');
    expect(await fireD1.locator('tr[data-type=emergency_call]').count()).toBe(0);
    expect(await fireD1.locator('button[data-action=resolve]').count()).toBe(0); // fire rescue may not resolve
    await fireD1.close();
    const nurseA = await loginAs('nurse-a');
    await nurseA.waitForSelector('tr[data-type=emergency_call]');
    await nurseA.goto(`${env.base}/#/sites`);
    await nurseA.waitForSelector('#sites-table');
    expect(await nurseA.locator('#sites-table tbody tr').count()).toBe(1);
    await nurseA.screenshot({ path: join(SHOTS, 'sites.png') });
    await nurseA.close();
  });

  it('exports the archive rows shown as CSV and PDF', async () => {
    const page = await loginAs('admin');
    await page.goto(`${env.base}/#/archive`);
    await page.waitForSelector('#archive-table');
    const shown = await page.locator('#archive-table tbody tr').count();
    expect(shown).toBe(seq);
    await page.screenshot({ path: join(SHOTS, 'archive.png') });
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csvText = readFileSync((await csv.path())!, 'utf8');
    expect(csvText.charCodeAt(0)).toBe(0xfeff);
    const lines = csvText.trim().split(/\r\n/);
    expect(lines).toHaveLength(shown + 1);
    expect(csvText).toContain('fire-panel-1');
    expect(csvText).toContain('btn-101');

    const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('#export-pdf')]);
    const pdfPath = (await pdf.path())!;
    expect(readFileSync(pdfPath).subarray(0, 5).toString()).toBe('%PDF-');
    const text = execFileSync('pdftotext', ['-layout', pdfPath, '-']).toString();
    expect(text).toContain('fire-panel-1');
    expect(text).toContain('btn-101');
    expect(text).toContain('三楼走廊感烟探测器');
    writeFileSync(join(SHOTS, 'archive.pdf.txt'), text);
    await page.close();
  });

  it('shows the fire-control room and the charts', async () => {
    const page = await loginAs('admin');
    await page.goto(`${env.base}/#/fire-room`);
    await page.waitForSelector('#staffing');
    await page.click('#issue-post-check');
    await page.waitForSelector('#view .badge.warn');
    expect(await page.locator('#view .badge.warn').first().textContent()).toBe('待应答');
    await page.screenshot({ path: join(SHOTS, 'fire-room.png') });
    await page.goto(`${env.base}/#/charts`);
    await page.waitForSelector('svg.chart rect', { state: 'attached' });
    const heights = await page
      .locator('svg.chart')
      .first()
      .locator('rect')
      .evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('height'))));
    expect(heights).toHaveLength(24);
    expect(heights.some((x) => x > 0)).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'charts.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${env.base}/#/alerts`);
    await page.waitForSelector('#alert-board tbody tr');
    await page.screenshot({ path: join(SHOTS, 'alert-board-phone.png') });
    await page.close();
  });

  it('shows the coverage gap of a site without a canteen camera', async () => {
    const page = await loginAs('admin');
    await page.goto(`${env.base}/#/coverage`);
    await page.waitForSelector('#coverage-matrix');
    const row = page.locator('tr[data-site=site-a]');
    expect(await row.locator('td[data-zone=canteen]').getAttribute('data-ok')).toBe('false');
    expect(await row.locator('td[data-zone=entrance]').getAttribute('data-ok')).toBe('true');
    await row.locator('td[data-zone=canteen] button').click();
    await page.waitForSelector('#coverage-detail h3');
    expect(await page.locator('#coverage-detail').textContent()).toContain('无摄像机');
    await page.screenshot({ path: join(SHOTS, 'coverage.png') });
    await page.close();
  });

  it('shows retention per camera: kept days against the policy, forecast, disk, and which ones fall short', async () => {
    // site-b reports one camera that has not kept 30 days yet and one whose disk will not hold the policy
    const b = await mqtt.connectAsync(env.mqttUrl, {
      clientId: 'gw-site-b',
      username: 'gw-site-b',
      password: env.secrets['site-b'],
    });
    const daysAgo = (d: number) => new Date(Date.now() - d * 24 * 3600_000).toISOString();
    const cam = (
      deviceId: string,
      zone: string,
      keptDays: number,
      forecastDays: number,
      margin?: number,
    ) => ({
      deviceId,
      type: 'camera',
      zone,
      online: true,
      recording: true,
      oldestKeptAt: daysAgo(keptDays),
      continuityPct: 97.2,
      policyDays: 30,
      forecastDays,
      diskFreeBytes: 3 * 2 ** 30,
      diskTotalBytes: 100 * 2 ** 30,
      ...(margin !== undefined ? { atRiskMarginDays: margin } : {}),
    });
    await b.publishAsync(
      siteTopic('site-b', 'inventory'),
      JSON.stringify({
        v: 1,
        siteId: 'site-b',
        gatewayId: 'gw-site-b',
        ts: new Date().toISOString(),
        devices: [
          cam('cam-new', 'entrance', 12, 40),
          cam('cam-full', 'canteen', 33, 31),
          // 40 days of forecast is fine with the default margin (30 + 2) but not with this gateway's 14
          cam('cam-wide', 'corridor', 35, 40, 14),
        ],
      }),
      { qos: 1, retain: true },
    );
    await b.endAsync();
    const page = await loginAs('admin');
    await page.goto(`${env.base}/#/retention`);
    const state = async (site: string, camera: string) => {
      const row = page.locator(`#retention-table tr[data-site="${site}"][data-camera="${camera}"]`);
      await row.waitFor({ timeout: 10_000 });
      return row.getAttribute('data-state');
    };
    await expect
      .poll(() => page.locator('#retention-table tr[data-site="site-b"]').count(), { timeout: 10_000 })
      .toBe(3);
    expect(await state('site-a', 'cam-entrance')).toBe('ok');
    expect(await state('site-b', 'cam-new')).toBe('short');
    expect(await state('site-b', 'cam-full')).toBe('at_risk');
    expect(await state('site-b', 'cam-wide')).toBe('at_risk');
    const full = page.locator('#retention-table tr[data-camera="cam-full"]');
    expect(await full.locator('td.kept').textContent()).toBe('33');
    expect(await full.locator('td.forecast').textContent()).toBe('31');
    expect(await full.locator('td.disk').textContent()).toBe('3.0 GiB (3%)');
    await page.screenshot({ path: join(SHOTS, 'retention-table.png') });
    // a nurse of site-a sees only site-a's cameras
    const nurse = await loginAs('nurse-a');
    await nurse.goto(`${env.base}/#/retention`);
    await nurse.locator('#retention-table tbody tr').first().waitFor();
    const sites = await nurse
      .locator('#retention-table tbody tr')
      .evaluateAll((rs) => rs.map((r) => r.getAttribute('data-site')));
    expect(new Set(sites)).toEqual(new Set(['site-a']));
    await nurse.close();
    await page.close();
  });

  it('shows the sites in their region tree with open alerts and gateway state', async () => {
    const page = await loginAs('admin');
    await page.goto(`${env.base}/#/sites`);
    const d1 = page.locator('#region-tree li[data-region="D1"]');
    await d1.waitFor();
    expect(await d1.getAttribute('data-sites')).toBe('1');
    expect(Number(await d1.getAttribute('data-open'))).toBe(
      (await env.central.store.alerts.list({ siteIds: ['site-a'], states: ['open', 'acknowledged'] })).length,
    );
    expect(await d1.locator('li[data-site="site-a"]').count()).toBe(1);
    expect(await d1.locator('summary').first().textContent()).toContain('示范区');
    // site-b has no region: listed apart, not inside D1
    expect(await page.locator('#region-tree li[data-region=""] li[data-site="site-b"]').count()).toBe(1);
    expect(await d1.locator('li[data-site="site-b"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'sites-tree.png') });
    await page.close();
  });

  it('writes the duty log and a shift handover from the fire-control room page; fire rescue only reads', async () => {
    for (const [id, name] of [
      ['op-zhang', '张伟'],
      ['op-li', '李娜'],
    ] as const) {
      await env.central.store.fireRoom.putOperator({
        id,
        siteId: 'site-a',
        name,
        certificateNo: `CERT-${id}`,
        certificateExpiresAt: Date.now() + 365 * 24 * 3600_000,
      });
    }
    const page = await loginAs('admin');
    await page.goto(`${env.base}/#/fire-room`);
    await page.waitForSelector('#duty-log-form');
    await page.selectOption('#duty-log-form select[name=kind]', 'equipment_check');
    await page.fill('#duty-log-form textarea[name=text]', '火灾报警控制器运行正常，消防水泵处于自动状态');
    await page.click('#duty-log-form button[type=submit]');
    await page.getByText('火灾报警控制器运行正常').waitFor();
    await page.waitForSelector('#handover-form');
    await page.selectOption('#handover-form select[name=from]', ['op-zhang']);
    await page.selectOption('#handover-form select[name=to]', ['op-li']);
    await page.fill('#handover-form textarea[name=note]', '3号楼烟感误报已复位，待维保');
    await page.click('#handover-form button[type=submit]');
    await page.getByText('3号楼烟感误报已复位').waitFor();
    const [log] = await env.central.store.fireRoom.dutyLog('site-a', 1);
    expect(log).toMatchObject({ kind: 'equipment_check', author: 'user:admin' });
    const [handover] = await env.central.store.fireRoom.handovers('site-a', 1);
    expect(handover).toMatchObject({
      fromOperators: ['op-zhang'],
      toOperators: ['op-li'],
      author: 'user:admin',
    });
    // a handover to nobody is refused with the server's reason, and nothing is stored
    await page.selectOption('#handover-form select[name=from]', ['op-li']);
    await page.fill('#handover-form textarea[name=note]', 'x');
    await page.click('#handover-form button[type=submit]');
    await expect.poll(() => page.locator('#handover-form .error').textContent()).toContain('toOperators');
    expect(await env.central.store.fireRoom.handovers('site-a', 10)).toHaveLength(1);
    await page.screenshot({ path: join(SHOTS, 'fire-room-records.png') });
    await page.close();
    const fireD1 = await loginAs('fire-d1');
    await fireD1.goto(`${env.base}/#/fire-room`);
    await fireD1.getByText('3号楼烟感误报已复位').waitFor();
    expect(await fireD1.locator('#duty-log-form, #handover-form').count()).toBe(0);
    await fireD1.close();
  });

  it('exports the alarms, the duty log and the handovers as CSV and PDF with the rows shown', async () => {
    const page = await loginAs('admin');
    await page.goto(`${env.base}/#/archive`);
    await page.waitForSelector('#archive-table[data-set=events]');
    const expectations: Array<[string, string[]]> = [
      ['alerts', ['fire_alarm', 'emergency_call', 'user:admin']],
      ['duty', ['火灾报警控制器运行正常', 'equipment_check']],
      ['handovers', ['3号楼烟感误报已复位', 'op-zhang', 'op-li']],
    ];
    for (const [set, words] of expectations) {
      await page.selectOption('#archive-set', set);
      await page.waitForSelector(`#archive-table[data-set=${set}]`);
      const shown = await page.locator('#archive-table tbody tr').count();
      expect(shown, set).toBeGreaterThan(0);
      const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
      const csvText = readFileSync((await csv.path())!, 'utf8');
      expect(csvText.trim().split(/\r\n/), set).toHaveLength(shown + 1);
      const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('#export-pdf')]);
      const text = execFileSync('pdftotext', ['-layout', (await pdf.path())!, '-']).toString();
      expect(text, set).toContain(`${shown} rows`);
      for (const w of words) {
        expect(csvText, `${set} csv`).toContain(w);
        expect(text, `${set} pdf`).toContain(w);
      }
    }
    const alerts = await env.central.store.alerts.list({});
    expect(await page.locator('#archive-table tbody tr').count()).toBeGreaterThan(0);
    await page.selectOption('#archive-set', 'alerts');
    await page.waitForSelector('#archive-table[data-set=alerts]');
    expect(await page.locator('#archive-table tbody tr').count()).toBe(alerts.length);
    await page.screenshot({ path: join(SHOTS, 'archive-alarms.png') });
    await page.close();
  });
});
