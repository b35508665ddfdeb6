import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRegion, addUser } from '../../cli/provision.js';
import { haveChromium, launchChromium } from '../../lib/testkit/browser.js';
import { ROOT } from '../../lib/testkit/procs.js';
import { buildEnvelope, type Envelope, siteTopic } from '../../protocol/index.js';
import { inProcessCentral } from '../helpers/central.js';
import { buildWebApp, openLoggedIn } from '../helpers/web.js';

const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');

/**
 * What a control-room screen does when nobody is looking at it: sound and a
 * browser notification for serious alerts, the escalation countdown, and a
 * visible state when the live connection drops, reconnecting by itself.
 */
describe('live alert board: sound, notification, countdown, reconnect (Chromium)', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  let browser: Browser;
  let gw: MqttClient;
  const pw: Record<string, string> = {};
  let seq = 0;

  const publish = (e: Envelope) =>
    gw.publishAsync(siteTopic('site-a', 'events'), JSON.stringify(e), { qos: 1 });
  const button = (deviceId: string, action: 'pressed' | 'battery_low') =>
    buildEnvelope({
      kind: 'emergency_call',
      siteId: 'site-a',
      deviceId,
      seq: seq++,
      data: { action, room: '203' },
    });

  async function loginAs(
    username: string,
    opts: { routeWs?: (ws: WebSocketRoute) => void } = {},
  ): Promise<Page> {
    // a headless browser has no speaker and no notification centre: record what the page asks of them
    return openLoggedIn(browser, env.base, username, pw[username]!, {
      answer: '收到',
      routeWs: opts.routeWs,
      initScript: `
        window.__beeps = 0;
        window.__notes = [];
        const Real = window.AudioContext;
        window.AudioContext = class extends Real {
          createOscillator() { window.__beeps++; return super.createOscillator(); }
        };
        window.Notification = class {
          static permission = 'granted';
          static requestPermission() { return Promise.resolve('granted'); }
          constructor(title, o) { window.__notes.push({ title, body: o && o.body }); }
        };`,
    });
  }
  const beeps = (p: Page) => p.evaluate('window.__beeps') as Promise<number>;
  const notes = (p: Page) => p.evaluate('window.__notes') as Promise<Array<{ title: string; body?: string }>>;

  beforeAll(async () => {
    if (!haveChromium()) throw new Error('Chromium missing: .ci/run installs Debian chromium');
    buildWebApp();
    env = await inProcessCentral({ sites: ['site-a'] });
    await addRegion({ dataDir: env.dir, id: 'D1', name: '示范区', level: 'district' });
    await env.central.store.registry.upsertSite({ id: 'site-a', name: '阳光养老院', region: 'D1' });
    pw.admin = env.adminPassword;
    pw['civil-d1'] = (
      await addUser({ dataDir: env.dir, username: 'civil-d1', role: 'civil_affairs', region: 'D1' })
    ).password;
    gw = await mqtt.connectAsync(env.mqttUrl, {
      clientId: 'gw-site-a',
      username: 'gw-site-a',
      password: env.secrets['site-a'],
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.endAsync();
    await env?.close();
  });

  it('notifies every new alert, sounds only for serious ones, and counts down to the next notice', async () => {
    const page = await loginAs('admin');
    await publish(button('btn-low', 'battery_low'));
    await page.locator('tr[data-type=low_battery]').waitFor({ timeout: 10_000 });
    expect(await beeps(page)).toBe(0);
    expect((await notes(page)).map((n) => n.title)).toEqual(['电量低 · site-a']);

    await publish(button('btn-203', 'pressed'));
    const row = page.locator('tr[data-type=emergency_call]');
    await row.waitFor({ timeout: 10_000 });
    await expect.poll(() => beeps(page), { timeout: 5_000 }).toBe(1);
    const [, note, ...more] = await notes(page);
    expect(more).toEqual([]);
    expect(note!.title).toContain('site-a');
    expect(note!.body).toContain('203');
    // level 0, and the time left before the next level is told (the default chain's wait)
    const stored = (await env.central.store.alerts.list({ types: ['emergency_call'] }))[0]!;
    const cell = row.locator('td', { hasText: '下次通知/升级' });
    const text = (await cell.textContent())!;
    expect(text.startsWith('0')).toBe(true);
    const [, mm, ss] = text.match(/(\d+):(\d\d)/)!;
    const shown = Number(mm) * 60 + Number(ss);
    const left = Math.round((stored.nextEscalationAt! - Date.now()) / 1000);
    expect(Math.abs(shown - left)).toBeLessThanOrEqual(2);
    await expect.poll(async () => (await cell.textContent()) !== text, { timeout: 5_000 }).toBe(true);
    await page.context().close();
  });

  it('shows the lost connection, reconnects by itself and catches up on what it missed', async () => {
    const sockets: WebSocketRoute[] = [];
    const page = await loginAs('admin', {
      routeWs: (ws) => {
        sockets.push(ws);
        ws.connectToServer();
      },
    });
    const before = await page.locator('#alert-board tbody tr').count();
    // the line to the central drops: the page says so
    const dropped = sockets.at(-1)!;
    await dropped.close({ code: 1006 });
    await page.waitForSelector('#conn.down', { timeout: 5_000 });
    expect(await page.locator('#conn').textContent()).toBe('未连接');
    await page.screenshot({ path: join(SHOTS, 'board-disconnected.png') });
    // an alarm arrives meanwhile; after the page's own reconnect it is on the board
    await publish(button('btn-305', 'pressed'));
    await page.waitForSelector('#conn.up', { timeout: 15_000 });
    expect(sockets.length).toBeGreaterThan(1);
    let id: string | undefined;
    const find = async () => {
      id = (await env.central.store.alerts.list({ types: ['emergency_call'] })).find(
        (a) => a.source === 'btn-305',
      )?.id;
      return id;
    };
    await expect.poll(find, { timeout: 10_000 }).toBeDefined();
    await page.locator(`tr[data-alert-id="${id}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator('#alert-board tbody tr').count()).toBe(before + 1);
    await page.context().close();
  });

  it('a civil-affairs supervisor sees the district, may acknowledge and may not resolve', async () => {
    const page = await loginAs('civil-d1');
    const row = page.locator('tr[data-type=emergency_call]').first();
    await row.waitFor({ timeout: 10_000 });
    expect(await page.locator('button[data-action=resolve]').count()).toBe(0);
    await row.locator('button[data-action=ack]').click();
    await expect.poll(async () => row.locator('td.state').textContent(), { timeout: 10_000 }).toBe('已确认');
    const acked = (await env.central.store.alerts.list({ states: ['acknowledged'] })).map((a) => a.ackedBy);
    expect(acked).toContain('user:civil-d1');
    await page.context().close();
  });
});
