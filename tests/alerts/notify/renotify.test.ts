import { afterEach, describe, expect, it } from 'vitest';
import { AlertService } from '../../../alerts/alert-service.js';
import type { EscalationConfig } from '../../../alerts/escalation.js';
import { NotificationDispatcher } from '../../../alerts/notify/dispatcher.js';
import { MemoryNotificationLog } from '../../../alerts/notify/log.js';
import { WebhookChannel } from '../../../alerts/notify/webhook.js';
import { createCentralBus } from '../../../central/bus.js';
import { ManualClock } from '../../../lib/clock.js';
import { Metrics } from '../../../lib/metrics.js';
import { buildEnvelope } from '../../../protocol/index.js';
import { openSqliteCentralStore } from '../../../storage/sqlite/central-store.js';
import { tempDir } from '../../helpers/procs.js';
import { makeAlert, T0 } from './helpers/alerts.js';
import { type FakeHttp, startFakeHttp } from './helpers/fake-http.js';
import { configWith, RecordingChannel } from './helpers/recording.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const ESC: EscalationConfig = {
  ackTimeoutS: 60,
  levels: ['on_duty', 'institution_head'],
  chains: [
    {
      name: 'calls',
      levels: [
        { name: 'on_duty', waitS: 60, repeats: 2 },
        { name: 'institution_head', waitS: 60, repeats: 2 },
      ],
    },
  ],
};

/** The routes of a site: the nurses get new alerts, the head gets escalations, a log room gets acks. */
const ROUTES = [
  { channels: ['all'] },
  { channels: ['nurses'], changes: ['opened'], levels: [0] },
  { channels: ['head'], changes: ['escalated'], levels: ['institution_head'] },
  { channels: ['acks'], changes: ['acknowledged'] },
];

describe('reminders (renotified) reach the recipients of their level', () => {
  it("routes a level-0 reminder like 'opened', a higher one like 'escalated'; each reminder once", async () => {
    const clock = new ManualClock(T0);
    const chans = ['all', 'nurses', 'head', 'acks'].map((n) => new RecordingChannel(n, clock));
    const bus = createCentralBus();
    const d = new NotificationDispatcher({
      config: configWith(
        chans.map((c) => c.name),
        { routes: ROUTES },
      ),
      channels: chans,
      log: new MemoryNotificationLog(),
      clock,
      bus,
      escalation: ESC,
    });
    await d.start();
    cleanup.push(() => d.stop());
    const emit = (change: 'opened' | 'renotified' | 'escalated', level: number, repeatCount: number) =>
      bus.emit('alert.changed', { alert: makeAlert({ escalationLevel: level, repeatCount }), change });
    emit('opened', 0, 0);
    emit('renotified', 0, 1);
    emit('renotified', 0, 2);
    emit('renotified', 0, 2); // the same reminder told twice (e.g. by two instances): sent once
    emit('escalated', 1, 0);
    emit('renotified', 1, 1);
    await d.settled();
    const [all, nurses, head, acks] = chans.map((c) => c.keys());
    expect(nurses).toEqual(['alert-1:opened:0', 'alert-1:renotified:0:1', 'alert-1:renotified:0:2']);
    expect(head).toEqual(['alert-1:escalated:1', 'alert-1:renotified:1:1']);
    expect(acks).toEqual([]);
    expect(all).toHaveLength(5);
    const reminder = chans[2]!.sent[1]!.message.notifications[0]!;
    expect(reminder).toMatchObject({ change: 'renotified', level: 1, levelName: 'institution_head' });
  });

  it('end to end: the escalator reminds, the dispatcher posts each reminder to the webhook of its level', async () => {
    const d0 = tempDir('cw-renotify-');
    cleanup.push(() => d0.cleanup());
    const servers: Record<string, FakeHttp> = {};
    for (const name of ['all', 'nurses', 'head', 'acks']) {
      servers[name] = await startFakeHttp(() => ({ status: 200, body: {} }));
      cleanup.push(() => servers[name]!.close());
    }
    const clock = new ManualClock(T0);
    const store = openSqliteCentralStore(`${d0.path}/central.db`);
    cleanup.push(() => store.close());
    const bus = createCentralBus();
    const base = configWith(Object.keys(servers), { routes: ROUTES });
    const channels = base.channels.map(
      (c) =>
        new WebhookChannel({ name: c.name, url: servers[c.name]!.url, timeoutMs: 5_000, format: {}, clock }),
    );
    const d = new NotificationDispatcher({
      config: base,
      channels,
      log: new MemoryNotificationLog(),
      clock,
      bus,
      escalation: ESC,
    });
    await d.start();
    cleanup.push(() => d.stop());
    const svc = new AlertService({
      alerts: store.alerts,
      events: store.events,
      silences: store.silences,
      bus,
      clock,
      metrics: new Metrics(),
      escalation: ESC,
    });
    await svc.start();
    cleanup.push(() => svc.stop());
    const envelope = buildEnvelope({
      kind: 'emergency_call',
      siteId: 's1',
      deviceId: 'btn-7',
      seq: 1,
      data: { action: 'pressed' },
    });
    await store.events.insertBatch([{ envelope, gatewayId: 'gw', receivedAt: clock.now() }]);
    bus.emit('event.stored', { envelope, gatewayId: 'gw', receivedAt: clock.now() });
    await svc.idle();
    const [alert] = await store.alerts.list({});
    for (let t = 0; t < 85; t += 5) {
      clock.advance(5_000);
      await new Promise((r) => setTimeout(r, 15));
      await d.settled();
    }
    // the head was reminded at 60 + 20 s; the acknowledgement comes before the second reminder at 60 + 40 s
    await svc.acknowledge(alert!.id, 'user:head', null);
    for (let t = 0; t < 120; t += 10) {
      clock.advance(10_000);
      await new Promise((r) => setTimeout(r, 15));
      await d.settled();
    }
    const received = (name: string) =>
      servers[name]!.requests.flatMap((r) =>
        (JSON.parse(r.body) as { notifications: Array<{ dedupKey: string }> }).notifications.map((n) =>
          n.dedupKey.slice(alert!.id.length + 1),
        ),
      );
    expect(received('nurses')).toEqual(['opened:0', 'renotified:0:1', 'renotified:0:2']);
    expect(received('head')).toEqual(['escalated:1', 'renotified:1:1']);
    expect(received('acks')).toEqual(['acknowledged:1']);
    expect(received('all')).toEqual([
      'opened:0',
      'renotified:0:1',
      'renotified:0:2',
      'escalated:1',
      'renotified:1:1',
      'acknowledged:1',
    ]);
    const audit = await store.alerts.audit(alert!.id);
    expect(audit.filter((e) => e.action === 'renotified').map((e) => [e.level, e.at - T0])).toEqual([
      [0, 20_000],
      [0, 40_000],
      [1, 80_000],
    ]);
  });
});
