import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../../lib/testkit/browser.js';
import { Button } from '../../lib/testkit/faults.js';
import { ROOT } from '../../lib/testkit/procs.js';
import { ffmpegAvailable, freeUdpPort, type Source, startUdpSource } from '../gateway/recorder/media.js';
import { type Proc, requireBuild, tempDir, until } from '../helpers/procs.js';
import { api, login, type Setup, setupSite, startCentral, startGateway } from '../helpers/site.js';
import { openLoggedIn } from '../helpers/web.js';

const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');

/** Waits until the page's <video> has decoded frames and its clock moves (checked in the page). */
async function playing(
  page: Page,
  selector: string,
): Promise<{ width: number; time: number; duration: number }> {
  const sel = JSON.stringify(selector);
  await page.waitForFunction(
    `(() => { const v = document.querySelector(${sel}); return !!v && v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0.3; })()`,
    undefined,
    { timeout: 30_000 },
  );
  return page.evaluate(
    `(() => { const v = document.querySelector(${sel}); return { width: v.videoWidth, time: v.currentTime, duration: v.duration }; })()`,
  );
}

/**
 * "A recording plays": a camera recorded by the gateway's ffmpeg, its
 * footage listed in the coverage drill-down, a clip of it cut on request and
 * played by Chromium; the clip of a call is played from the alert board.
 */
describe('footage in a real browser', () => {
  const dir = tempDir('cw-web-footage-');
  let s: Setup;
  let central: Proc;
  let gateway: Proc;
  let source: Source;
  let port: number;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    requireBuild();
    if (!haveChromium()) throw new Error('Chromium missing: .ci/run installs Debian chromium');
    expect(ffmpegAvailable(), 'ffmpeg is installed by .ci/run').toBe(true);
    port = await freeUdpPort();
    source = startUdpSource(port);
    s = await setupSite(dir.path, {
      mediaUpload: true,
      extra: {
        cameras: {
          recordingsDir: join(dir.path, 'recordings'),
          segmentSeconds: 1,
          clips: { beforeS: 2, afterS: 2 },
          devices: [
            {
              deviceId: 'cam-cor',
              zone: 'corridor',
              streamUrl: `udp://127.0.0.1:${port}`,
              covers: ['btn-1'],
            },
          ],
        },
      },
    });
    central = await startCentral(s);
    gateway = await startGateway(s);
    await gateway.waitFor(/connected to central/);
    const token = await login(s);
    // the camera appears in the coverage report once the inventory says it records
    await until(async () => {
      const r = await api<{ sites: Array<{ zones: Array<{ cameras: Array<{ recording: boolean }> }> }> }>(
        s,
        token,
        '/api/coverage',
      );
      return r.body.sites[0]?.zones.some((z) => z.cameras.some((c) => c.recording)) ? true : undefined;
    }, 40_000);
    await new Promise((r) => setTimeout(r, 4000));
    browser = await launchChromium();
    page = await openLoggedIn(browser, s.base, 'admin', s.adminPassword, { waitLive: false });
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.kill();
    await central?.kill();
    await source?.stop();
    dir.cleanup();
  });

  it('plays a recording picked in the coverage drill-down', async () => {
    await page.click('a[data-route=coverage]');
    await page.click('#coverage-matrix tr[data-site="site-a"] td[data-zone=corridor] button');
    await page.click('button.footage-open[data-camera="cam-cor"]');
    // the gateway's recorded spans are listed; play the latest of them
    await page.waitForSelector('.footage ul.spans li[data-from] button.play-span', { timeout: 20_000 });
    await page.click('.footage ul.spans li[data-from]:last-child button.play-span');
    const v = await playing(page, '.footage figure.media[data-kind=clip] video');
    expect(v.width).toBe(320);
    expect(v.duration).toBeGreaterThan(1);
    await page.screenshot({ path: join(SHOTS, 'footage-playback.png') });

    // a snapshot of the same camera shows as a picture
    await page.click('.footage button.snapshot');
    const img = '.footage figure.media[data-kind=snapshot] img';
    await page.waitForFunction(
      `(() => { const i = document.querySelector(${JSON.stringify(img)}); return !!i && i.complete && i.naturalWidth > 0; })()`,
      undefined,
      { timeout: 45_000 },
    );
    expect(await page.evaluate(`document.querySelector(${JSON.stringify(img)}).naturalWidth`)).toBe(320);
  }, 120_000);

  it('plays the clip of a call from the alert board', async () => {
    const button = new Button(s.busPort);
    try {
      await button.press('btn-1', 'single');
    } finally {
      await button.close();
    }
    await page.click('a[data-route=alerts]');
    const row = '#alert-board tr[data-type=emergency_call]';
    await page.waitForSelector(row, { timeout: 20_000 });
    // the clip exists once the footage after the call is recorded, cut and uploaded
    const token = await login(s);
    const alertId = await page.getAttribute(row, 'data-alert-id');
    await until(async () => {
      const r = await api<{ media: unknown[] }>(s, token, `/api/alerts/${alertId}/media`);
      return r.body.media.length > 0 ? true : undefined;
    }, 60_000);
    await page.click(`${row} button[data-action=clip]`);
    const v = await playing(page, '#alert-media figure.media[data-kind=clip] video');
    expect(v.width).toBe(320);
    await page.screenshot({ path: join(SHOTS, 'alert-clip.png') });
  }, 120_000);

  it('lists the camera on the retention page against its policy and shows a recording gap', async () => {
    // the source goes away for a while, then comes back on the same port
    await source.stop();
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 6_000));
    source = startUdpSource(port);
    const token = await login(s);
    await until(async () => {
      const q = `from=${new Date(cut - 60_000).toISOString()}&to=${new Date().toISOString()}`;
      const r = await api<{ spans: Array<{ from: string; to: string }> }>(
        s,
        token,
        `/api/sites/site-a/cameras/cam-cor/recordings?${q}`,
      );
      return r.body.spans.length >= 2 && Date.parse(r.body.spans.at(-1)!.from) > cut ? true : undefined;
    }, 60_000);
    await page.click('a[data-route=retention]');
    const row = page.locator('#retention-table tr[data-camera="cam-cor"]');
    await row.waitFor();
    // minutes of footage against a 30-day policy: short
    expect(await row.getAttribute('data-state')).toBe('short');
    expect(await row.locator('td.policy').textContent()).toBe('30');
    await row.locator('button.footage-open').click();
    const gap = page.locator('.footage ul.spans li.gap').last();
    await gap.waitFor({ timeout: 20_000 });
    const from = Date.parse((await gap.getAttribute('data-from'))!);
    const to = Date.parse((await gap.getAttribute('data-to'))!);
    // the gap covers the time the source was away (give or take a segment and ffmpeg's restart)
    expect(from).toBeLessThan(cut + 2_000);
    expect(to - from).toBeGreaterThanOrEqual(4_000);
    await page.screenshot({ path: join(SHOTS, 'retention.png') });
  }, 120_000);
});
