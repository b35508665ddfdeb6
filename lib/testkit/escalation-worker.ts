/**
 * A child process for crash tests of escalation with an injected clock: the
 * alert service over a real SQLite central store, with a ManualClock that the
 * parent moves over IPC, so a test can SIGKILL the process at any point of a
 * wait and start another on the same file at a later time.
 *
 * argv: <central db path> <clock start, ms> <escalation config as JSON>
 * in:  { op: 'event', envelope } | { op: 'advance', ms } | { op: 'ack', id }
 * out: { op: 'ready' } once started, then { op: 'done', n } after each message n is applied
 */
import { AlertService } from '../../alerts/alert-service.js';
import type { EscalationConfig } from '../../alerts/escalation.js';
import { createCentralBus } from '../../central/bus.js';
import type { Envelope } from '../../protocol/index.js';
import { openSqliteCentralStore } from '../../storage/sqlite/central-store.js';
import { ManualClock } from '../clock.js';
import { Metrics } from '../metrics.js';

type Message =
  | { n: number; op: 'event'; envelope: Envelope }
  | { n: number; op: 'advance'; ms: number }
  | { n: number; op: 'ack'; id: string };

/** Lets the store calls that timers started settle (they are promises behind the clock's callbacks). */
const settle = () => new Promise((r) => setTimeout(r, 30));

async function main(): Promise<void> {
  const [path, start, config] = process.argv.slice(2);
  if (!path || !start || !config || !process.send)
    throw new Error('usage: escalation-worker <db> <start ms> <json>');
  const clock = new ManualClock(Number(start));
  const store = openSqliteCentralStore(path);
  const bus = createCentralBus();
  const svc = new AlertService({
    alerts: store.alerts,
    events: store.events,
    silences: store.silences,
    bus,
    clock,
    metrics: new Metrics(),
    escalation: JSON.parse(config) as EscalationConfig,
  });
  await svc.start();
  await settle();
  await svc.idle();
  let chain = Promise.resolve();
  process.on('message', (m: Message) => {
    chain = chain.then(async () => {
      if (m.op === 'event') {
        const notice = { envelope: m.envelope, gatewayId: 'gw', receivedAt: clock.now() };
        await store.events.insertBatch([notice]);
        bus.emit('event.stored', notice);
      } else if (m.op === 'advance') {
        // step by second, so each timer's store work finishes before the next timer is due
        for (let left = m.ms; left > 0; left -= 1000) {
          clock.advance(Math.min(1000, left));
          await settle();
          await svc.idle();
        }
      } else {
        await svc.acknowledge(m.id, 'user:test', null);
      }
      await settle();
      await svc.idle();
      process.send?.({ op: 'done', n: m.n });
    });
  });
  process.send({ op: 'ready' });
}

main().catch((err) => {
  process.stderr.write(`escalation-worker: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
