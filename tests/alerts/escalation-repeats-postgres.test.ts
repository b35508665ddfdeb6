import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertService } from '../../alerts/alert-service.js';
import type { EscalationConfig } from '../../alerts/escalation.js';
import { createCentralBus } from '../../central/bus.js';
import { ManualClock } from '../../lib/clock.js';
import { Metrics } from '../../lib/metrics.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../../lib/testkit/postgres.js';
import { buildEnvelope } from '../../protocol/index.js';
import { openPostgresCentralStore } from '../../storage/postgres/central-store.js';
import type { CentralStore } from '../../storage/types.js';

const unavailable = postgresUnavailable();
let server: TestPostgres | null = null;
beforeAll(async () => {
  if (!unavailable) server = await startTestPostgres();
}, 120_000);
afterAll(async () => server?.stop(), 60_000);

const ESC: EscalationConfig = {
  ackTimeoutS: 60,
  levels: ['on_duty', 'head'],
  chains: [
    {
      name: 'calls',
      levels: [
        { name: 'on_duty', waitS: 60, repeats: 2 },
        { name: 'head', waitS: 90, repeats: 3, repeatEveryS: 30 },
      ],
    },
  ],
};

function instance(store: CentralStore, clock: ManualClock) {
  const bus = createCentralBus();
  const told: string[] = [];
  bus.on('alert.changed', ({ alert, change }) => {
    if (change === 'renotified' || change === 'escalated') {
      told.push(`${change}:${alert.escalationLevel}:${alert.repeatCount ?? 0}`);
    }
  });
  const svc = new AlertService({
    alerts: store.alerts,
    events: store.events,
    silences: store.silences,
    bus,
    clock,
    metrics: new Metrics(),
    escalation: ESC,
  });
  return { store, bus, svc, told };
}

/** Waits (real time) until both instances' store calls for this clock step are done. */
const settle = () => new Promise((r) => setTimeout(r, 60));

describe.skipIf(unavailable !== null)(
  `escalation repeats on PostgreSQL, two central instances${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('each reminder and each climb happens once between the two instances', async () => {
      const url = await server!.createDatabase();
      const stores = await Promise.all([openPostgresCentralStore(url), openPostgresCentralStore(url)]);
      const clock = new ManualClock();
      const t0 = clock.now();
      const [a, b] = stores.map((s) => instance(s, clock)) as [
        ReturnType<typeof instance>,
        ReturnType<typeof instance>,
      ];
      try {
        await a.svc.start();
        const envelope = buildEnvelope({
          kind: 'emergency_call',
          siteId: 's1',
          deviceId: 'btn-1',
          seq: 1,
          data: { action: 'pressed' },
        });
        await a.store.events.insertBatch([{ envelope, gatewayId: 'gw', receivedAt: clock.now() }]);
        a.bus.emit('event.stored', { envelope, gatewayId: 'gw', receivedAt: clock.now() });
        await a.svc.idle();
        await b.svc.start(); // arms its timer for the alert in the shared database
        const [alert] = await a.store.alerts.list({});
        for (let t = 0; t < 200; t += 10) {
          clock.advance(10_000);
          await settle();
        }
        const audit = (await b.store.alerts.audit(alert!.id))
          .filter((e) => e.action === 'renotified' || e.action === 'escalated')
          .map((e) => [e.action, e.level, (e.at - t0) / 1000]);
        expect(audit).toEqual([
          ['renotified', 0, 20],
          ['renotified', 0, 40],
          ['escalated', 1, 60],
          ['renotified', 1, 90],
          ['renotified', 1, 120],
          ['renotified', 1, 150],
        ]);
        // told on the bus exactly once between them, whichever instance won each step
        expect([...a.told, ...b.told].sort()).toEqual([
          'escalated:1:0',
          'renotified:0:1',
          'renotified:0:2',
          'renotified:1:1',
          'renotified:1:2',
          'renotified:1:3',
        ]);
      } finally {
        await a.svc.stop();
        await b.svc.stop();
        await Promise.all(stores.map((s) => s.close()));
      }
    }, 60_000);
  },
);
