import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Accident } from '../../../alerts/accidents/types.js';
import type { Hazard } from '../../../alerts/hazards/types.js';
import { createChannels } from '../../../alerts/notify/channels.js';
import { parseNotifyConfig } from '../../../alerts/notify/config.js';
import { NotificationDispatcher } from '../../../alerts/notify/dispatcher.js';
import { MemoryNotificationLog } from '../../../alerts/notify/log.js';
import { verifyWebhookSignature } from '../../../alerts/notify/webhook.js';
import { createCentralBus } from '../../../central/bus.js';
import { ManualClock } from '../../../lib/clock.js';
import { T0 } from './helpers/alerts.js';
import { type FakeHttp, startFakeHttp } from './helpers/fake-http.js';

const DING_SECRET = 'SECdingtalk-robot-secret';
const HOOK_SECRET = 'webhook-secret-0123456789';

const accident: Accident = {
  id: 'acc-1',
  siteId: 'site-1',
  alertId: 'alert-9',
  title: '老人跌倒骨折',
  classifiedAt: T0,
  classifiedBy: 'user:head',
  deadlineAt: T0 + 3_600_000,
  state: 'pending_report',
  reportedAt: null,
  reportedLate: false,
  warnedAt: null,
  overdueAt: null,
};
const hazard: Hazard = {
  id: 'haz-1',
  siteId: 'site-1',
  source: 'zone:canteen',
  kind: 'coverage_gap',
  title: '重点部位监控覆盖缺口: canteen',
  openedAt: T0,
  alertId: 'alert-7',
  responsible: null,
  rectifyBy: null,
  state: 'open',
  closedAt: null,
  closedBy: null,
  closeNote: null,
  escalatedAt: null,
};

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup() {
  const ding = await startFakeHttp();
  const hook = await startFakeHttp(() => ({ status: 200, body: {} }));
  cleanup.push(ding.close, hook.close);
  const clock = new ManualClock(T0);
  const config = parseNotifyConfig(
    {
      baseUrl: 'https://cw.example.org',
      siteNames: { 'site-1': '阳光养老院' },
      channels: [
        { type: 'dingtalk', name: 'duty', baseUrl: ding.url, accessToken: 'tok-1', secret: DING_SECRET },
        { type: 'webhook', name: 'hook', url: `${hook.url}/carewatch`, secret: HOOK_SECRET },
      ],
      // the hook only takes accidents: routes select them by the alert type `accident`
      routes: [{ channels: ['duty'] }, { channels: ['hook'], types: ['accident'] }],
      grouping: { neverGroup: ['critical', 'major'] },
    },
    'notify',
  );
  const bus = createCentralBus();
  const log = new MemoryNotificationLog();
  const d = new NotificationDispatcher({
    config,
    channels: createChannels(config, { clock }),
    log,
    bus,
    clock,
  });
  await d.start();
  cleanup.push(() => d.stop());
  return { ding, hook, clock, bus, log, d };
}

const dingBody = (f: FakeHttp, i: number) =>
  JSON.parse(f.requests[i]!.body) as { msgtype: string; markdown: { title: string; text: string } };

describe('accident and hazard notices through the notification dispatcher', () => {
  it('sends accident opened, deadline warning and overdue in the exact DingTalk and webhook formats', async () => {
    const { ding, hook, clock, bus, log, d } = await setup();
    bus.emit('accident.classified', { accident, remainingS: 3600 });
    await d.settled();
    clock.advance(45 * 60_000);
    bus.emit('accident.deadline_near', { accident: { ...accident, warnedAt: clock.now() }, remainingS: 900 });
    await d.settled();
    clock.advance(15 * 60_000 + 5_000);
    bus.emit('accident.overdue', {
      accident: { ...accident, state: 'overdue', warnedAt: T0 + 45 * 60_000, overdueAt: clock.now() },
      remainingS: -5,
    });
    await d.settled();

    expect(ding.requests).toHaveLength(3);
    const due = '2026-01-01 09:00:00 UTC+08:00';
    const titles = [0, 1, 2].map((i) => dingBody(ding, i).markdown.title);
    expect(titles).toEqual([
      `【安全事故 Safety accident】老人跌倒骨折 — 阳光养老院：须在 ${due} 前上报，剩余 60分00秒 / report by ${due}, 60 min 00 s left`,
      `【事故上报即将超时 Accident report due soon】老人跌倒骨折 — 阳光养老院：须在 ${due} 前上报，剩余 15分00秒 / report by ${due}, 15 min 00 s left`,
      `【事故上报已超时 Accident report overdue】老人跌倒骨折 — 阳光养老院：已超过1小时上报时限 0分05秒 / 0 min 05 s past the 1-hour deadline (${due})`,
    ]);
    // DingTalk signed mode: timestamp and sign of that moment in the query
    ding.requests.forEach((r, i) => {
      expect(r.method).toBe('POST');
      expect(r.path).toBe('/robot/send');
      expect(r.query.get('access_token')).toBe('tok-1');
      const ts = r.query.get('timestamp')!;
      expect(Number(ts)).toBe([T0, T0 + 45 * 60_000, T0 + 60 * 60_000 + 5_000][i]);
      const sign = createHmac('sha256', DING_SECRET).update(`${ts}\n${DING_SECRET}`).digest('base64');
      expect(r.query.get('sign')).toBe(sign);
    });
    expect(dingBody(ding, 0)).toEqual({
      msgtype: 'markdown',
      markdown: {
        title: titles[0],
        text: [
          `### ${titles[0]}`,
          '',
          '- **机构 Site**: 阳光养老院 (site-1)',
          '- **认定 Classified**: 2026-01-01 08:00:00 UTC+08:00 · user:head',
          `- **上报时限 Report deadline**: ${due}`,
          '- **状态 State**: 待上报 pending report',
          '- **告警 Alert**: alert-9',
          '',
          '[查看详情 Open](https://cw.example.org/#/accidents/acc-1)',
        ].join('\n'),
      },
      at: { atMobiles: [], isAtAll: false },
    });
    expect(dingBody(ding, 2).markdown.text).toContain('- **状态 State**: 已超时 overdue');

    // the webhook: signed, with the accident itself next to its alert-shaped snapshot
    expect(hook.requests).toHaveLength(3);
    hook.requests.forEach((r, i) => {
      const ts = String(r.headers['x-carewatch-timestamp']);
      const sig = String(r.headers['x-carewatch-signature']);
      const sentAt = [T0, T0 + 45 * 60_000, T0 + 60 * 60_000 + 5_000][i]!;
      expect(ts).toBe(String(Math.floor(sentAt / 1000)));
      expect(verifyWebhookSignature(HOOK_SECRET, ts, r.body, sig, sentAt)).toBe(true);
    });
    const bodies = hook.requests.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.notifications[0].dedupKey)).toEqual([
      'accident:acc-1:accident_classified',
      'accident:acc-1:accident_deadline_near',
      'accident:acc-1:accident_overdue',
    ]);
    expect(bodies[2]).toMatchObject({
      kind: 'single',
      title: titles[2],
      link: 'https://cw.example.org/#/accidents/acc-1',
      notifications: [
        {
          change: 'escalated',
          level: 2,
          levelName: 'accident_overdue',
          alert: { id: 'acc-1', type: 'accident', severity: 'critical', siteId: 'site-1' },
          safety: { event: 'accident_overdue', remainingS: -5, accident: { id: 'acc-1', state: 'overdue' } },
        },
      ],
    });
    const entries = await log.list({});
    expect(entries.map((e) => `${e.channel}/${e.status}`).sort()).toEqual([
      'duty/delivered',
      'duty/delivered',
      'duty/delivered',
      'hook/delivered',
      'hook/delivered',
      'hook/delivered',
    ]);
  });

  it('sends hazard opened and overdue to the robot only, each notice once', async () => {
    const { ding, hook, clock, bus, d } = await setup();
    bus.emit('hazard.opened', { hazard });
    bus.emit('hazard.opened', { hazard }); // the same notice twice: claimed once in the log
    await d.settled();
    clock.advance(8 * 86400_000);
    const assigned = { ...hazard, responsible: '张主任', rectifyBy: T0 + 7 * 86400_000 };
    bus.emit('hazard.overdue', { hazard: { ...assigned, escalatedAt: clock.now() } });
    await d.settled();
    expect(hook.requests).toHaveLength(0);
    expect(ding.requests).toHaveLength(2);
    const [opened, overdue] = [dingBody(ding, 0), dingBody(ding, 1)];
    expect(opened.markdown.title).toBe('【新隐患 New hazard】重点部位监控覆盖缺口: canteen — 阳光养老院');
    expect(opened.markdown.text.split('\n')).toEqual([
      `### ${opened.markdown.title}`,
      '',
      '- **机构 Site**: 阳光养老院 (site-1)',
      '- **类型 Kind**: coverage_gap',
      '- **部位 Source**: zone:canteen',
      '- **状态 State**: 待整改 open',
      '- **责任人 Responsible**: 未指定 unassigned',
      '- **整改期限 Rectify by**: 未设定 not set',
      '- **发现 Opened**: 2026-01-01 08:00:00 UTC+08:00',
      '',
      '[查看详情 Open](https://cw.example.org/#/hazards/haz-1)',
    ]);
    expect(overdue.markdown.title).toBe(
      '【隐患整改逾期 Hazard rectification overdue】重点部位监控覆盖缺口: canteen — 阳光养老院',
    );
    expect(overdue.markdown.text).toContain('- **责任人 Responsible**: 张主任');
    expect(overdue.markdown.text).toContain('- **整改期限 Rectify by**: 2026-01-08 08:00:00 UTC+08:00');
  });

  it('stops listening to the notices on stop', async () => {
    const { ding, bus, d } = await setup();
    await d.stop();
    bus.emit('hazard.opened', { hazard });
    await new Promise((r) => setTimeout(r, 100));
    expect(ding.requests).toHaveLength(0);
  });
});
