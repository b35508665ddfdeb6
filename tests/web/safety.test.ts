import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAccidentRepo } from '../../alerts/accidents/index.js';
import { centralDbPath } from '../../central/central.js';
import { addUser } from '../../cli/provision.js';
import { haveChromium, launchChromium } from '../../lib/testkit/browser.js';
import { ROOT } from '../../lib/testkit/procs.js';
import { buildEnvelope, type Envelope, mintId, siteTopic } from '../../protocol/index.js';
import { openDatabase } from '../../storage/sqlite/open.js';
import { inProcessCentral } from '../helpers/central.js';

const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const HOUR = 3600_000;

/** `mm:ss` or `h:mm:ss` → seconds. */
const secs = (s: string | null) =>
  (s ?? '')
    .replace('+', '')
    .split(':')
    .reduce((acc, p) => acc * 60 + Number(p), 0);

describe('accidents, hazard ledger and attendance timeline in a real browser', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  let browser: Browser;
  let gw: MqttClient;
  const pw: Record<string, string> = {};
  let seq = 0;
  const publish = (e: Envelope) =>
    gw.publishAsync(siteTopic('site-a', 'events'), JSON.stringify(e), { qos: 1 });

  async function loginAs(username: string): Promise<Page> {
    const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    await page.goto(env.base);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', pw[username]!);
    await page.click('button[type=submit]');
    await page.waitForSelector('#alert-board');
    await page.waitForSelector('#conn.up');
    return page;
  }

  beforeAll(async () => {
    if (!haveChromium()) throw new Error('Chromium missing: .ci/run installs Debian chromium');
    execFileSync('npx', ['vite', 'build', '--config', 'dashboard/web/vite.config.ts', '--logLevel', 'warn'], {
      cwd: ROOT,
    });
    mkdirSync(SHOTS, { recursive: true });
    env = await inProcessCentral({ sites: ['site-a'] });
    await env.central.store.registry.upsertSite({ id: 'site-a', name: '阳光养老院', region: null });
    pw.admin = env.adminPassword;
    pw['head-a'] = (
      await addUser({ dataDir: env.dir, username: 'head-a', role: 'institution_head', sites: 'site-a' })
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
        deviceId: 'btn-203',
        seq: seq++,
        data: { action: 'pressed', room: '203' },
      }),
    );
    // the fire-control room over the last day: op-1 on duty since 10 h ago, op-2 from 20 h to 12 h ago and again since 3 h
    const now = Date.now();
    const swipes: Array<[number, 'check_in' | 'check_out', string]> = [
      [20, 'check_in', 'op-2'],
      [12, 'check_out', 'op-2'],
      [10, 'check_in', 'op-1'],
      [3, 'check_in', 'op-2'],
    ];
    for (const [hAgo, action, operatorId] of swipes) {
      await publish(
        buildEnvelope({
          kind: 'attendance',
          siteId: 'site-a',
          deviceId: 'badge-1',
          seq: seq++,
          ts: new Date(now - hAgo * HOUR),
          data: { source: 'badge', action, operatorId },
        }),
      );
    }
    // cameras everywhere but the canteen: a coverage gap, which opens a hazard at once
    const head = { v: 1, siteId: 'site-a', gatewayId: 'gw-site-a', ts: new Date().toISOString() };
    const kept = new Date(now - 35 * 24 * HOUR).toISOString();
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
    await gw.publishAsync(siteTopic('site-a', 'status'), JSON.stringify({ ...head, state: 'online' }), {
      qos: 1,
    });
    await gw.publishAsync(siteTopic('site-a', 'inventory'), JSON.stringify({ ...head, devices: cameras }), {
      qos: 1,
      retain: true,
    });
    await env.central.alerts.idle();
    const t0 = Date.now();
    while ((await env.central.hazards.list({})).length === 0) {
      if (Date.now() - t0 > 15_000) throw new Error('no hazard opened for the canteen gap');
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.endAsync();
    await env?.close();
  });

  it('opens an accident from an alert: countdown on the board and in the accidents view, then a report', async () => {
    const head = await loginAs('head-a'); // a second supervisor watching the board
    const headRow = head.locator('tr[data-type=emergency_call]');
    await headRow.waitFor();
    expect(await headRow.locator('.board-accident').count()).toBe(0);

    const page = await loginAs('admin');
    const row = page.locator('tr[data-type=emergency_call]');
    const alertId = await row.getAttribute('data-alert-id');
    await row.locator('a[data-action=accident]').click();
    await page.waitForSelector('#classify-accident');
    // the alert comes preselected, its title proposed
    const selected = await page.locator('#accident-alert').inputValue();
    expect(selected).toBe(alertId);
    expect(await page.locator('#accident-title').inputValue()).not.toBe('');
    await page.fill('#accident-title', '203室老人跌倒骨折');
    await page.click('#classify-accident button[type=submit]');
    await page.waitForSelector('#accident-detail .big-countdown .countdown');
    const stored = (await env.central.accidents.list({}))[0]!;
    expect(stored).toMatchObject({ alertId: selected, siteId: 'site-a', state: 'pending_report' });
    expect(page.url()).toContain(`#/accidents/${stored.id}`);

    // the countdown to the 1-hour deadline, updating every second
    const big = page.locator('#accident-detail .big-countdown .countdown');
    const first = secs(await big.textContent());
    expect(first).toBeGreaterThan(3500);
    expect(first).toBeLessThanOrEqual(3600);
    await expect.poll(async () => secs(await big.textContent()), { timeout: 5_000 }).toBeLessThan(first);
    const listed = page.locator(`#accidents-table tr[data-accident-id="${stored.id}"]`);
    expect(secs(await listed.locator('.countdown').textContent())).toBeGreaterThan(3500);
    expect(await listed.locator('td.state').textContent()).toBe('待上报');

    // the other supervisor's board shows it live, with the countdown, without a reload
    const headCd = headRow.locator('.board-accident .countdown');
    await headCd.waitFor({ timeout: 10_000 });
    const a1 = secs(await headCd.textContent());
    expect(a1).toBeGreaterThan(3500);
    await expect.poll(async () => secs(await headCd.textContent()), { timeout: 5_000 }).toBeLessThan(a1);
    await head.screenshot({ path: join(SHOTS, 'alert-board-accident.png') });

    // file the report to the authorities
    await page.fill('#report-form input[name=to]', '区民政局值班室');
    await page.selectOption('#report-form select[name=channel]', 'phone');
    await page.fill('#report-form textarea[name=note]', '已电话报告，伤者送医');
    await page.click('#report-form button[type=submit]');
    const reports = page.locator('#accident-reports tbody tr');
    await reports.first().waitFor();
    expect(await reports.count()).toBe(1);
    expect(await reports.first().textContent()).toContain('区民政局值班室');
    expect(await reports.first().textContent()).toContain('已电话报告，伤者送医');
    await expect
      .poll(async () => listed.locator('td.state').textContent(), { timeout: 5_000 })
      .toBe('已上报');
    expect(await page.locator('#accident-detail .big-countdown').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'accidents.png') });
    const after = (await env.central.accidents.get(stored.id))!;
    expect(after.accident).toMatchObject({ state: 'reported', reportedLate: false });
    expect(after.reports).toMatchObject([{ toWhom: '区民政局值班室', channel: 'phone', by: 'user:admin' }]);

    // ... and the watching board follows: reported, no countdown
    await head.locator('.board-accident .badge[data-state=reported]').waitFor({ timeout: 10_000 });
    expect(await headRow.locator('.board-accident .countdown').count()).toBe(0);
    await head.close();
    await page.close();
  });

  it('shows an accident past its deadline as overdue, live, and a report after it as late', async () => {
    const page = await loginAs('head-a');
    await page.goto(`${env.base}/#/accidents`);
    await page.waitForSelector('#accidents-table');
    // an accident classified 61 minutes ago while nobody watched: written to the central's
    // database as the service would have, then the deadline pass runs as after a restart
    const now = Date.now();
    const id = mintId();
    const db = openDatabase(centralDbPath({ dataDir: env.dir }));
    await new SqliteAccidentRepo(db).insert({
      id,
      siteId: 'site-a',
      alertId: null,
      title: '夜间走失',
      classifiedAt: now - 61 * 60_000,
      classifiedBy: 'user:head-a',
      deadlineAt: now - 60_000,
      state: 'pending_report',
      reportedAt: null,
      reportedLate: false,
      warnedAt: null,
      overdueAt: null,
    });
    db.close();
    await env.central.accidents.tick();
    const row = page.locator(`#accidents-table tr[data-accident-id="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('td.state .badge').getAttribute('data-state')).toBe('overdue');
    expect(await row.locator('td.state').textContent()).toBe('已超时');
    const cd = row.locator('.countdown');
    expect(await cd.getAttribute('class')).toContain('overdue');
    expect(await cd.textContent()).toMatch(/^\+01:0\d$/);

    await row.locator('a').click();
    await page.fill('#report-form input[name=to]', '区应急管理局');
    await page.selectOption('#report-form select[name=channel]', 'written');
    await page.click('#report-form button[type=submit]');
    const report = page.locator('#accident-reports tbody tr').first();
    await report.waitFor();
    expect(await report.textContent()).toContain('逾期');
    await expect.poll(async () => row.locator('td.state').textContent(), { timeout: 5_000 }).toBe('逾期上报');
    expect((await env.central.accidents.get(id))!.accident).toMatchObject({
      state: 'reported',
      reportedLate: true,
    });
    await page.click('#lang');
    await page.waitForSelector('#accidents-table');
    expect(await page.locator(`#accidents-table tr[data-accident-id="${id}"] td.state`).textContent()).toBe(
      'Reported late',
    );
    await page.close();
  });

  it('assigns a hazard and closes it only with a note; the CSV has it', async () => {
    const watcher = await loginAs('admin'); // a second supervisor with the ledger open
    await watcher.goto(`${env.base}/#/hazards`);
    await watcher.waitForSelector('#rectification-list tbody tr');
    const page = await loginAs('head-a');
    await page.goto(`${env.base}/#/hazards`);
    const [hz] = await env.central.hazards.list({});
    const inList = page.locator(`#hazard-list tr[data-hazard-id="${hz!.id}"]`);
    await inList.waitFor();
    expect(await inList.textContent()).toContain('canteen');

    const resp = page.locator(`#responsibility-list tr[data-hazard-id="${hz!.id}"]`);
    await resp.locator('input[name=responsible]').fill('张主任');
    await resp.locator('input[name=rectifyBy]').fill('2027-01-15');
    await resp.locator('button[type=submit]').click();
    await expect.poll(async () => resp.textContent(), { timeout: 5_000 }).toContain('张主任');
    expect((await env.central.hazards.get(hz!.id))!.hazard).toMatchObject({
      responsible: '张主任',
      state: 'rectifying',
    });

    // closing without a note is refused, nothing changes
    const rect = page.locator(`#rectification-list tr[data-hazard-id="${hz!.id}"]`);
    await rect.locator('form[data-action=close] button').click();
    expect(await page.locator('#view p.error').first().textContent()).toBe('销号须填写整改情况说明');
    expect((await env.central.hazards.get(hz!.id))!.hazard.state).toBe('rectifying');

    await rect.locator('input[name=note]').fill('食堂已安装摄像机并接入录像');
    await rect.locator('form[data-action=close] button').click();
    await expect.poll(async () => rect.getAttribute('data-state'), { timeout: 5_000 }).toBe('closed');
    expect(await rect.textContent()).toContain('食堂已安装摄像机并接入录像');
    expect(await page.locator(`#responsibility-list tr[data-hazard-id="${hz!.id}"]`).count()).toBe(0);
    const closed = (await env.central.hazards.get(hz!.id))!;
    expect(closed.hazard).toMatchObject({ state: 'closed', closedBy: 'user:head-a' });
    expect(closed.hazard.closeNote).toBe('食堂已安装摄像机并接入录像');
    await page.screenshot({ path: join(SHOTS, 'hazards.png'), fullPage: true });
    // the watcher's ledger followed over the WebSocket, without a reload
    const watched = watcher.locator(`#rectification-list tr[data-hazard-id="${hz!.id}"]`);
    await expect.poll(async () => watched.getAttribute('data-state'), { timeout: 5_000 }).toBe('closed');
    expect(await watched.textContent()).toContain('食堂已安装摄像机并接入录像');
    await watcher.close();

    const href = await page.locator('#hazards-csv').getAttribute('href');
    const csv = await page.request.get(`${env.base}${href}`);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const text = await csv.text();
    expect(text).toContain('张主任');
    expect(text).toContain('食堂已安装摄像机并接入录像');
    await page.close();
  });

  it('draws the attendance timeline of the last 24 h in the fire-control room', async () => {
    const page = await loginAs('admin');
    await page.goto(`${env.base}/#/fire-room`);
    await page.waitForSelector('#attendance-timeline');
    const rects = page.locator('#attendance-timeline rect');
    expect(await rects.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-operator')).sort())).toEqual([
      'op-1',
      'op-2',
      'op-2',
    ]);
    // op-2's first shift (8 h) is drawn wider than the current one (3 h so far)
    const widths = await page
      .locator('#attendance-timeline rect[data-operator=op-2]')
      .evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('width'))));
    expect(widths[0]! / widths[1]!).toBeGreaterThan(2.4);
    expect(widths[0]! / widths[1]!).toBeLessThan(2.9);
    await page.locator('#attendance-timeline').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'fire-room-timeline.png') });
    await page.close();
  });
});
