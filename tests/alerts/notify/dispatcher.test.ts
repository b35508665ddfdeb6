import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { NotificationDispatcher } from '../../../alerts/notify/dispatcher.js';
import { type LogEntry, MemoryNotificationLog, type NotificationLog } from '../../../alerts/notify/log.js';
import { SqliteNotificationLog } from '../../../alerts/notify/sqlite-log.js';
import { NotifyError } from '../../../alerts/notify/types.js';
import { WebhookChannel } from '../../../alerts/notify/webhook.js';
import { createCentralBus } from '../../../central/bus.js';
import { ManualClock, systemClock } from '../../../lib/clock.js';
import { Metrics } from '../../../lib/metrics.js';
import { makeAlert, T0 } from './helpers/alerts.js';
import { deadPort, type FakeHttp, startFakeHttp } from './helpers/fake-http.js';
import { configWith, RecordingChannel } from './helpers/recording.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function started(d: NotificationDispatcher): Promise<NotificationDispatcher> {
  await d.start();
  cleanup.push(() => d.stop());
  return d;
}

async function fake(...a: Parameters<typeof startFakeHttp>): Promise<FakeHttp> {
  const f = await startFakeHttp(...a);
  cleanup.push(() => f.close());
  return f;
}

const notice = (over: Parameters<typeof makeAlert>[0] = {}, change = 'opened' as const) => ({
  alert: makeAlert(over),
  change,
});

describe('NotificationDispatcher: retries', () => {
  it('a server failing twice with 500 then answering: delivered once, 3 attempts logged, backoff doubles', async () => {
    const server = await fake((_r, i) => (i < 2 ? { status: 500, body: 'boom' } : { status: 200, body: {} }));
    const clock = new ManualClock(T0);
    const config = configWith(['hook']);
    const log = new MemoryNotificationLog();
    const metrics = new Metrics();
    const hook = new WebhookChannel({ name: 'hook', url: server.url, timeoutMs: 2000, format: {}, clock });
    const times: number[] = [];
    server.respond = ((orig) => (r, i) => {
      times.push(clock.now());
      return orig(r, i);
    })(server.respond);
    const d = await started(new NotificationDispatcher({ config, channels: [hook], log, clock, metrics }));
    expect(await d.notify(notice())).toEqual(['hook']);
    await d.settled();
    expect((await log.list())[0]).toMatchObject({ status: 'pending', attempts: 1 });
    clock.advance(100);
    await d.settled();
    clock.advance(200);
    await d.settled();
    clock.advance(10_000);
    await d.settled();
    expect(server.requests).toHaveLength(3);
    expect(times).toEqual([T0, T0 + 100, T0 + 300]);
    // same delivery id on every attempt, so a receiver can drop duplicates
    expect(new Set(server.requests.map((r) => r.headers['x-carewatch-delivery'])).size).toBe(1);
    const [entry] = await log.list();
    expect(entry).toMatchObject({
      dedupKey: 'alert-1:opened:0',
      channel: 'hook',
      status: 'delivered',
      attempts: 3,
      messageKind: 'single',
      lastError: null,
    });
    expect(await metrics.text()).toMatch(
      /carewatch_notify_attempts_total\{channel="hook",outcome="retry"\} 2/,
    );
  });

  it('gives up after maxAttempts; a non-retryable error is not retried', async () => {
    const clock = new ManualClock(T0);
    const ch = new RecordingChannel('c', clock, (m) =>
      m.notifications[0]!.alert.id === 'a1'
        ? new NotifyError('NOTIFY_HTTP_STATUS', 'HTTP 503', true)
        : new NotifyError('NOTIFY_REJECTED', 'errcode 310000', false),
    );
    const config = configWith(['c'], {
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 15, jitter: 0 },
    });
    const log = new MemoryNotificationLog();
    const d = await started(new NotificationDispatcher({ config, channels: [ch], log, clock }));
    await d.notify(notice({ id: 'a1' }));
    await d.notify(notice({ id: 'a2' }));
    for (const step of [10, 15, 15, 15]) {
      await d.settled();
      clock.advance(step);
    }
    await d.settled();
    expect((await log.list({ alertId: 'a1' }))[0]).toMatchObject({
      status: 'failed',
      attempts: 3,
      lastError: 'NOTIFY_HTTP_STATUS: HTTP 503',
    });
    expect((await log.list({ alertId: 'a2' }))[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(ch.attempts.map((a) => a.at - T0)).toEqual([0, 0, 10, 25]);
  });

  it('a message in backoff does not hold up the next alerts on the same channel', async () => {
    const clock = new ManualClock(T0);
    const ch = new RecordingChannel('c', clock, (m, n) =>
      m.notifications[0]!.alert.id === 'a1' && n < 3 ? new Error('flaky') : undefined,
    );
    const config = configWith(['c'], {
      retry: { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60000, jitter: 0 },
    });
    const d = await started(
      new NotificationDispatcher({ config, channels: [ch], log: new MemoryNotificationLog(), clock }),
    );
    await d.notify(notice({ id: 'a1' }));
    await d.notify(notice({ id: 'a2' }));
    await d.notify(notice({ id: 'a3' }));
    await d.settled();
    expect(ch.sent.map((s) => [s.message.notifications[0]!.alert.id, s.at - T0])).toEqual([
      ['a2', 0],
      ['a3', 0],
    ]);
    clock.advance(1000);
    await d.settled();
    clock.advance(2000);
    await d.settled();
    expect(ch.sent.map((s) => [s.message.notifications[0]!.alert.id, s.at - T0])).toEqual([
      ['a2', 0],
      ['a3', 0],
      ['a1', 3000],
    ]);
  });
});

describe('NotificationDispatcher: isolation between channels', () => {
  it('a dead endpoint and a hanging one do not delay a healthy channel', async () => {
    const healthy = await fake();
    const held = new Set<import('node:net').Socket>();
    const hang = createServer((s) => held.add(s)); // accepts and never answers
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          for (const s of held) s.destroy();
          hang.close(() => r());
        }),
    );
    const hangPort = (hang.address() as { port: number }).port;
    const config = configWith(['dead', 'hung', 'ok'], {
      retry: { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 200, jitter: 0 },
    });
    // the hanging endpoint's timeout is far beyond the healthy deliveries, however loaded the machine
    const mk = (name: string, url: string) =>
      new WebhookChannel({
        name,
        url,
        timeoutMs: name === 'hung' ? 4000 : 1500,
        format: {},
        clock: systemClock,
      });
    const channels = [
      mk('dead', `http://127.0.0.1:${await deadPort()}/`),
      mk('hung', `http://127.0.0.1:${hangPort}/`),
      mk('ok', `${healthy.url}/`),
    ];
    const log = new MemoryNotificationLog();
    const d = new NotificationDispatcher({ config, channels, log });
    await d.start();
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await d.notify(notice({ id: `a${i}`, siteId: `s${i}` }));
    while (healthy.requests.length < 5 && Date.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 10));
    expect(healthy.requests).toHaveLength(5);
    // all five arrived while the hanging endpoint still held its first requests unanswered
    expect((await log.list({ channel: 'hung' })).every((e) => e.attempts === 0)).toBe(true);
    // meanwhile the dead endpoint keeps failing and backing off, the hanging one waits for its timeout
    while (Date.now() - t0 < 8000) {
      const dead = await log.list({ channel: 'dead' });
      if (dead.length === 5 && dead.every((e) => e.attempts >= 2)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const dead = await log.list({ channel: 'dead' });
    expect(dead.every((e) => e.status === 'pending' && e.lastError?.startsWith('NOTIFY_NETWORK'))).toBe(true);
    expect(dead.every((e) => e.attempts >= 2)).toBe(true);
    expect((await log.list({ channel: 'ok' })).every((e) => e.status === 'delivered')).toBe(true);
    await d.stop();
    const hung = await log.list({ channel: 'hung' });
    // two send slots were stuck until the timeout; nothing was delivered, everything stays pending
    expect(hung.every((e) => e.status === 'pending')).toBe(true);
    const tried = hung.filter((e) => e.attempts > 0);
    expect(tried).toHaveLength(2);
    expect(tried.every((e) => e.lastError?.startsWith('NOTIFY_TIMEOUT'))).toBe(true);
  }, 15_000);
});

describe('NotificationDispatcher: dedup', () => {
  it('the same (alert, change, level) is sent once; another level or change is new', async () => {
    const clock = new ManualClock(T0);
    const ch = new RecordingChannel('c', clock);
    const d = await started(
      new NotificationDispatcher({
        config: configWith(['c']),
        channels: [ch],
        log: new MemoryNotificationLog(),
        clock,
      }),
    );
    await d.notify(notice());
    await d.notify(notice({ count: 2 }));
    await d.notify(notice({ count: 2 }, 'repeated' as 'opened'));
    await d.notify(notice({ escalationLevel: 1 }, 'escalated' as 'opened'));
    await d.notify(notice({ escalationLevel: 1 }, 'escalated' as 'opened'));
    await d.settled();
    expect(ch.keys()).toEqual(['alert-1:opened:0', 'alert-1:repeated:0', 'alert-1:escalated:1']);
  });

  it('survives a restart with the SQLite log; pending entries are sent after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-notify-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'central.db');
    const clock = new ManualClock(T0);
    const config = configWith(['c', 'flaky'], {
      retry: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 },
    });
    const openLog = (): { log: NotificationLog; db: Database.Database } => {
      const db = new Database(file);
      const log = new SqliteNotificationLog(db);
      log.migrate();
      return { log, db };
    };

    // first run: delivered on c; flaky fails once and is waiting for its retry at shutdown
    const run1 = openLog();
    const c1 = new RecordingChannel('c', clock);
    const f1 = new RecordingChannel('flaky', clock, () => new Error('ECONNRESET'));
    const d1 = new NotificationDispatcher({ config, channels: [c1, f1], log: run1.log, clock });
    await d1.start();
    await d1.notify(notice());
    await d1.settled();
    await d1.stop();
    run1.db.close();
    expect(c1.keys()).toEqual(['alert-1:opened:0']);
    expect(f1.sent).toHaveLength(0);

    // second run, same file: the notice again (e.g. replayed) is not sent again; the pending one is
    const run2 = openLog();
    const c2 = new RecordingChannel('c', clock);
    const f2 = new RecordingChannel('flaky', clock);
    const d2 = new NotificationDispatcher({ config, channels: [c2, f2], log: run2.log, clock });
    cleanup.push(() => {
      run2.db.close();
    });
    await d2.start();
    expect(await d2.notify(notice())).toEqual([]);
    await d2.settled();
    await d2.stop();
    expect(c2.sent).toHaveLength(0);
    expect(f2.keys()).toEqual(['alert-1:opened:0']);
    const entries = await run2.log.list();
    expect(entries.map((e) => [e.channel, e.status, e.attempts]).sort()).toEqual([
      ['c', 'delivered', 1],
      ['flaky', 'delivered', 2],
    ]);
    expect(entries[0]!.notification.alert.title).toBe('Emergency call, room 203');
    // migrate is idempotent
    new SqliteNotificationLog(run2.db).migrate();
  });
});

describe('NotificationDispatcher: grouping and rate limits', () => {
  it('more than N changes of one site within the window leave as one grouped message', async () => {
    const clock = new ManualClock(T0);
    const ch = new RecordingChannel('c', clock);
    const config = configWith(['c'], { grouping: { windowMs: 10_000, threshold: 2 } });
    const log = new MemoryNotificationLog();
    const d = await started(new NotificationDispatcher({ config, channels: [ch], log, clock }));
    for (let i = 0; i < 5; i++) {
      await d.notify(notice({ id: `a${i}`, severity: 'minor', type: 'device_unavailable' }));
      clock.advance(1000);
    }
    await d.notify(notice({ id: 'other-site', siteId: 'site-2' }));
    await d.settled();
    expect(ch.sent.map((s) => s.message.kind)).toEqual(['single', 'single', 'single']);
    clock.advance(5_000); // the window of site-1 ends at T0 + 10 s
    await d.settled();
    expect(ch.sent).toHaveLength(4);
    const group = ch.sent[3]!;
    expect(group.at).toBe(T0 + 10_000);
    expect(group.message.kind).toBe('group');
    expect(group.message.notifications.map((n) => n.alert.id)).toEqual(['a2', 'a3', 'a4']);
    const entries = await log.list({ status: 'delivered' });
    expect(entries).toHaveLength(6);
    expect(entries.filter((e) => e.messageId === group.message.id)).toHaveLength(3);
    // the next window starts afresh
    await d.notify(notice({ id: 'a9' }));
    await d.settled();
    expect(ch.sent[4]!.message.kind).toBe('single');
  });

  it('severities in neverGroup are never held back', async () => {
    const clock = new ManualClock(T0);
    const ch = new RecordingChannel('c', clock);
    const config = configWith(['c'], {
      grouping: { windowMs: 10_000, threshold: 1, neverGroup: ['critical'] },
    });
    const d = await started(
      new NotificationDispatcher({ config, channels: [ch], log: new MemoryNotificationLog(), clock }),
    );
    for (let i = 0; i < 3; i++) await d.notify(notice({ id: `c${i}` }));
    await d.settled();
    expect(ch.sent.map((s) => s.message.kind)).toEqual(['single', 'single', 'single']);
  });

  it('over the token bucket: the rest leaves as one summary when a token comes back, nothing dropped', async () => {
    const clock = new ManualClock(T0);
    const ch = new RecordingChannel('c', clock);
    const config = configWith(['c']);
    config.channels[0]!.rateLimit = { capacity: 2, perMinute: 6 };
    const log = new MemoryNotificationLog();
    const d = await started(new NotificationDispatcher({ config, channels: [ch], log, clock }));
    for (let i = 0; i < 6; i++) await d.notify(notice({ id: `a${i}`, siteId: `s${i}` }));
    await d.settled();
    expect(ch.sent).toHaveLength(2);
    expect(d.backlog()).toEqual({ c: 4 });
    clock.advance(9_999);
    await d.settled();
    expect(ch.sent).toHaveLength(2);
    clock.advance(1);
    await d.settled();
    expect(ch.sent).toHaveLength(3);
    expect(ch.sent[2]!.message.kind).toBe('summary');
    expect(ch.sent[2]!.message.notifications).toHaveLength(4);
    expect((await log.list({ status: 'delivered' })).length).toBe(6);
    expect(d.backlog()).toEqual({ c: 0 });
  });
});

describe('NotificationDispatcher: routing', () => {
  it('routes by severity, change and escalation level with per-channel recipients; skips drills and suppressed', async () => {
    const clock = new ManualClock(T0);
    const chat = new RecordingChannel('chat', clock);
    const sms = new RecordingChannel('sms', clock);
    const config = configWith(['chat', 'sms'], {
      routes: [
        { channels: ['chat'] },
        {
          channels: ['sms'],
          severities: ['critical'],
          changes: ['escalated'],
          levels: ['institution_head', 3],
          recipients: { sms: ['+8613900000001'] },
        },
      ],
    });
    const bus = createCentralBus();
    const d = await started(
      new NotificationDispatcher({
        config,
        channels: [chat, sms],
        log: new MemoryNotificationLog(),
        clock,
        bus,
      }),
    );
    bus.emit('alert.changed', notice());
    bus.emit('alert.changed', notice({ escalationLevel: 1 }, 'escalated' as 'opened'));
    bus.emit('alert.changed', notice({ escalationLevel: 2 }, 'escalated' as 'opened'));
    bus.emit('alert.changed', notice({ id: 'drill', drill: true }));
    bus.emit('alert.changed', notice({ id: 'quiet', suppressed: 'silenced' }));
    await d.settled();
    expect(chat.keys()).toEqual(['alert-1:opened:0', 'alert-1:escalated:1', 'alert-1:escalated:2']);
    expect(sms.keys()).toEqual(['alert-1:escalated:1']);
    expect(sms.sent[0]!.message.recipients).toEqual(['+8613900000001']);
    expect(sms.sent[0]!.message.notifications[0]!.levelName).toBe('institution_head');
  });
});

describe('NotificationDispatcher: secrets', () => {
  it('tokens, keys and signing secrets never reach the notification log', async () => {
    const { DingTalkChannel } = await import('../../../alerts/notify/dingtalk.js');
    const { WeComChannel } = await import('../../../alerts/notify/wecom.js');
    const server = await fake(() => ({ status: 502, body: 'bad gateway' }));
    const clock = new ManualClock(T0);
    const config = configWith(['ding', 'wecom', 'hook'], {
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: 0 },
    });
    const channels = [
      new DingTalkChannel({
        name: 'ding',
        baseUrl: server.url,
        accessToken: 'TOKEN-dt-123',
        secret: 'SEC-dt-456',
        msgtype: 'markdown',
        timeoutMs: 2000,
        format: {},
        clock,
      }),
      new WeComChannel({
        name: 'wecom',
        baseUrl: server.url,
        key: 'KEY-wc-789',
        msgtype: 'markdown',
        timeoutMs: 2000,
        format: {},
      }),
      new WebhookChannel({
        name: 'hook',
        url: `http://user:PASS-hook@127.0.0.1:${new URL(server.url).port}/hooks/PATH-TOKEN-000`,
        secret: 'SIGNING-SECRET-0123',
        timeoutMs: 2000,
        format: {},
        clock,
      }),
    ];
    const log = new MemoryNotificationLog();
    const d = await started(new NotificationDispatcher({ config, channels, log, clock }));
    await d.notify(notice());
    await d.settled();
    const entries = await log.list();
    expect(entries).toHaveLength(3);
    const dump = JSON.stringify(entries);
    expect(entries.every((e) => e.status === 'failed' && e.lastError?.includes('HTTP 502'))).toBe(true);
    const hookReq = server.requests.find((r) => r.path.startsWith('/hooks/'))!;
    expect(hookReq.headers.authorization).toBe(`Basic ${Buffer.from('user:PASS-hook').toString('base64')}`);
    for (const secret of [
      'TOKEN-dt-123',
      'SEC-dt-456',
      'KEY-wc-789',
      'PASS-hook',
      'PATH-TOKEN-000',
      'SIGNING-SECRET-0123',
    ]) {
      expect(dump).not.toContain(secret);
    }
  });
});

/** A shared log as a PostgreSQL one behaves, over a memory log: records the lease calls, adopts what `give` holds. */
class LeasedLog extends MemoryNotificationLog implements NotificationLog {
  readonly calls: string[] = [];
  held = true;
  give: LogEntry[] = [];

  async resumable(): Promise<LogEntry[]> {
    return [];
  }
  async renew(leaseMs: number): Promise<boolean> {
    this.calls.push(`renew ${leaseMs}`);
    return this.held;
  }
  async adopt(leaseMs: number): Promise<LogEntry[]> {
    this.calls.push(`adopt ${leaseMs}`);
    const out = this.give;
    this.give = [];
    await this.record(...out);
    return out;
  }
  async release(): Promise<void> {
    this.calls.push('release');
  }
}

describe('NotificationDispatcher: lease of a shared log', () => {
  it('renews before it resumes, every renewS; sends what it adopts; warns when late; releases on stop', async () => {
    const clock = new ManualClock(T0);
    const channel = new RecordingChannel('c', clock);
    const log = new LeasedLog();
    const metrics = new Metrics();
    const config = configWith(['c'], { lease: { renewS: 5, expireS: 30 } });
    const d = new NotificationDispatcher({ config, channels: [channel], log, clock, metrics });
    await d.start();
    expect(log.calls).toEqual(['renew 30000']);
    clock.advance(4_999);
    await d.settled();
    expect(log.calls).toHaveLength(1);
    // another instance's pending notification, adopted at the next renewal
    const n = d.toNotification(notice({ id: 'al-other' }))!;
    log.give = [
      {
        dedupKey: n.dedupKey,
        channel: 'c',
        alertId: 'al-other',
        siteId: n.alert.siteId,
        change: 'opened',
        level: 0,
        status: 'pending',
        attempts: 3,
        messageId: null,
        messageKind: null,
        lastError: 'NOTIFY_HTTP_STATUS: 503',
        recipients: [],
        createdAt: T0 - 60_000,
        updatedAt: T0 - 1_000,
        notification: n,
      },
    ];
    clock.advance(1);
    for (let i = 0; i < 5 && channel.sent.length === 0; i++) await d.settled();
    expect(log.calls).toEqual(['renew 30000', 'renew 30000', 'adopt 30000']);
    expect(channel.keys()).toEqual([n.dedupKey]);
    const [entry] = await log.list({ alertId: 'al-other' });
    // its earlier attempts and creation time carry on
    expect(entry).toMatchObject({ status: 'delivered', attempts: 4, createdAt: T0 - 60_000 });
    log.held = false;
    clock.advance(5_000);
    for (let i = 0; i < 5 && log.calls.length < 5; i++) await d.settled();
    expect(log.calls.slice(3)).toEqual(['renew 30000', 'adopt 30000']);
    expect(await metrics.registry.getSingleMetricAsString('carewatch_notify_lease_lapsed_total')).toMatch(
      /carewatch_notify_lease_lapsed_total 1/,
    );
    await d.stop();
    expect(log.calls.at(-1)).toBe('release');
    const calls = log.calls.length;
    clock.advance(60_000);
    expect(log.calls).toHaveLength(calls); // no renewal after stop
  });
});
