import { describe, expect, it } from 'vitest';
import { createChannels } from '../../../alerts/notify/channels.js';
import { parseNotifyConfig } from '../../../alerts/notify/config.js';
import { headline, renderMessage, truncateBytes } from '../../../alerts/notify/format.js';
import { TokenBucket } from '../../../alerts/notify/rate-limit.js';
import { ConfigError } from '../../../lib/errors.js';
import { makeNotification, messageOf, T0 } from './helpers/alerts.js';

describe('notify config', () => {
  const valid = {
    baseUrl: 'https://cw.example.org',
    siteNames: { 'site-1': '阳光养老院' },
    channels: [
      { type: 'dingtalk', name: 'ding', accessToken: 't', secret: 'SECx' },
      { type: 'wecom', name: 'wecom', key: 'k' },
      { type: 'webhook', name: 'hook', url: 'https://hooks.example.org/cw', secret: '0123456789abcdef' },
      {
        type: 'email',
        name: 'mail',
        host: 'smtp.example.org',
        from: 'cw@example.org',
        to: ['ops@example.org'],
      },
      { type: 'sms', name: 'sms', url: 'https://sms.example.org/send', to: ['+8613900000001'] },
    ],
    routes: [
      { channels: ['ding', 'hook'] },
      { channels: ['sms', 'mail'], severities: ['critical'], levels: [1, 'institution_head'] },
    ],
  };

  it('fills defaults per channel type', () => {
    const c = parseNotifyConfig(valid);
    expect(c.retry).toEqual({ maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60000, jitter: 0.2 });
    expect(c.grouping).toEqual({ windowMs: 10000, threshold: 3, neverGroup: [] });
    expect(c.channels[0]).toMatchObject({
      baseUrl: 'https://oapi.dingtalk.com',
      msgtype: 'markdown',
      rateLimit: { capacity: 10, perMinute: 18 },
      timeoutMs: 10000,
    });
    expect(c.channels[1]).toMatchObject({ baseUrl: 'https://qyapi.weixin.qq.com' });
    expect(c.channels[3]).toMatchObject({ port: 587, starttls: 'required', secure: false });
    expect(createChannels(c).map((ch) => ch.name)).toEqual(['ding', 'wecom', 'hook', 'mail', 'sms']);
  });

  it.each([
    [
      { channels: [{ type: 'dingtalk', name: 'd' }] },
      /\/channels\/0: must have required property 'accessToken'/,
    ],
    [
      { channels: [{ type: 'pager', name: 'p' }] },
      /\/channels\/0\/type: must be equal to one of the allowed values$/,
    ],
    [
      { channels: [{ type: 'wecom', name: 'w', key: 'k', colour: 1 }] },
      /must NOT have additional properties 'colour'/,
    ],
    [
      { channels: [{ type: 'email', name: 'm', host: 'h', from: 'not-an-address' }] },
      /\/from: must match pattern/,
    ],
    [{ routes: [{ channels: ['nope'] }] }, /\/routes\/0\/channels\/0: no channel named 'nope'/],
    [
      {
        channels: [
          { type: 'wecom', name: 'w', key: 'k' },
          { type: 'wecom', name: 'w', key: 'k2' },
        ],
      },
      /\/channels\/1\/name: duplicate name 'w'/,
    ],
    [{ retry: { baseDelayMs: 10_000, maxDelayMs: 10 } }, /\/retry\/maxDelayMs: must be >= baseDelayMs/],
    [{ grouping: { threshold: 0 } }, /\/grouping\/threshold: must be >= 1/],
    [{ lease: { renewS: 10, expireS: 15 } }, /\/lease\/expireS: must be at least twice renewS/],
    [{ lease: { renewS: 0 } }, /\/lease\/renewS: must be > 0/],
  ])('refuses %j', (value, message) => {
    let err: unknown;
    try {
      parseNotifyConfig(value, 'central.yaml notify');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^central\.yaml notify/);
    expect((err as Error).message).toMatch(message);
  });
});

describe('message text', () => {
  const o = {
    baseUrl: 'https://cw.example.org',
    siteName: (id: string) => (id === 'site-1' ? '阳光养老院' : undefined),
  };

  it('zh-CN first, then English, with severity, site, state, level and link', () => {
    const n = makeNotification({ escalationLevel: 1, count: 3 }, 'escalated', 'institution_head');
    const r = renderMessage(messageOf([n]), o);
    expect(r.title).toBe('【紧急】[已升级 escalated] 紧急呼叫 Emergency call, room 203 — 阳光养老院');
    expect(r.text.split('\n')).toEqual([
      r.title,
      '级别 Severity: 紧急 critical',
      '机构 Site: 阳光养老院 (site-1)',
      '状态 State: 未处理 open',
      '变化 Change: 已升级 escalated',
      '升级 Escalation: L1 机构负责人 institution head',
      '次数 Count: 3',
      '时间 Time: 2026-01-01 08:00:00 UTC+08:00',
      '链接 Link: https://cw.example.org/#/alerts/alert-1',
    ]);
    expect(headline(makeNotification({ drill: true, siteId: 'x' }), o)).toBe(
      '【演练 Drill】【紧急】紧急呼叫 Emergency call, room 203 — x',
    );
  });

  it('a summary counts by severity, lists the worst first and says how many more', () => {
    const items = Array.from({ length: 14 }, (_, i) =>
      makeNotification({
        id: `a${i}`,
        severity: i === 13 ? 'critical' : 'minor',
        type: 'low_battery',
        title: `Low battery ${i}`,
      }),
    );
    const r = renderMessage(messageOf(items, { kind: 'summary' }), { ...o, maxItems: 5 });
    expect(r.title).toBe(
      '【告警汇总】14 条告警变化 Alert summary: 14 changes — 阳光养老院（限流汇总 rate-limited summary）',
    );
    const lines = r.text.split('\n');
    expect(lines[1]).toBe('级别 Severity: 紧急 critical: 1, 次要 minor: 13');
    expect(lines[2]).toMatch(/^- 【紧急】电量低 Low battery 13/);
    expect(r.text).toContain('…另有 9 条 and 9 more');
    expect(r.link).toBe('https://cw.example.org/#/alerts');
  });

  it('truncates on UTF-8 boundaries', () => {
    expect(truncateBytes('紧急紧急', 8)).toBe('紧…');
    expect(Buffer.byteLength(truncateBytes('紧'.repeat(3000), 4096))).toBeLessThanOrEqual(4096);
  });
});

describe('token bucket', () => {
  it('starts full and refills continuously', () => {
    const b = new TokenBucket(2, 6, T0);
    expect([b.take(T0), b.take(T0), b.take(T0)]).toEqual([true, true, false]);
    expect(b.waitMs(T0)).toBe(10_000);
    expect(b.take(T0 + 9_999)).toBe(false);
    expect(b.take(T0 + 10_000)).toBe(true);
  });
});
