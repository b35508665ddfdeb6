/** Shared steps of the browser tests: build the web app, open a logged-in page. */
import { execFileSync } from 'node:child_process';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { ROOT } from '../../lib/testkit/procs.js';

/** Builds the web app with Vite (the central serves dashboard/web's build). */
export function buildWebApp(): void {
  try {
    execFileSync('npx', ['vite', 'build', '--config', 'dashboard/web/vite.config.ts', '--logLevel', 'warn'], {
      cwd: ROOT,
    });
  } catch (err) {
    throw new Error(`web app build failed: ${String(err)}`);
  }
}

export interface LoginOptions {
  /** What the page's prompt() dialogs (notes on acknowledge/resolve) are answered with. */
  answer?: string;
  acceptDownloads?: boolean;
  /** Script run in the page before its own (e.g. stand-ins for audio and notifications). */
  initScript?: string;
  /** Routes the live WebSocket through the test (to cut and restore it). */
  routeWs?: (ws: WebSocketRoute) => void;
  /** Wait for the live connection too (default true). */
  waitLive?: boolean;
}

/** A new browser context, zh-CN at 1400×900, logged in as `username` on the alert board. */
export async function openLoggedIn(
  browser: Browser,
  base: string,
  username: string,
  password: string,
  o: LoginOptions = {},
): Promise<Page> {
  const ctx = await browser.newContext({
    locale: 'zh-CN',
    viewport: { width: 1400, height: 900 },
    ...(o.acceptDownloads ? { acceptDownloads: true } : {}),
  });
  if (o.initScript) await ctx.addInitScript({ content: o.initScript });
  const page = await ctx.newPage();
  if (o.routeWs) await page.routeWebSocket(/\/api\/ws$/, o.routeWs);
  page.on('dialog', (d) => void d.accept(o.answer ?? ''));
  await page.goto(base);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#alert-board');
  if (o.waitLive ?? true) await page.waitForSelector('#conn.up');
  return page;
}
