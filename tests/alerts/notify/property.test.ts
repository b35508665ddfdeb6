import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotificationDispatcher } from '../../../alerts/notify/dispatcher.js';
import { MemoryNotificationLog } from '../../../alerts/notify/log.js';
import { ManualClock } from '../../../lib/clock.js';
import { SEVERITIES } from '../../../storage/types.js';
import { makeAlert, T0 } from './helpers/alerts.js';
import { configWith, RecordingChannel } from './helpers/recording.js';

const CHANGES = ['opened', 'repeated', 'acknowledged', 'resolved', 'escalated'] as const;

const event = fc.record({
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 20_000 })),
  site: fc.integer({ min: 0, max: 3 }),
  alert: fc.integer({ min: 0, max: 8 }),
  change: fc.constantFrom(...CHANGES),
  level: fc.integer({ min: 0, max: 2 }),
  severity: fc.constantFrom(...SEVERITIES),
});

const policy = fc.record({
  capacity: fc.integer({ min: 1, max: 5 }),
  perMinute: fc.integer({ min: 1, max: 30 }),
  windowMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 15_000 })),
  threshold: fc.integer({ min: 1, max: 4 }),
  neverGroupCritical: fc.boolean(),
});

describe('dispatcher properties', () => {
  it('messages per channel stay within the token bucket; every notification is delivered exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(policy, fc.array(event, { maxLength: 60 }), async (p, events) => {
        const clock = new ManualClock(T0);
        const a = new RecordingChannel('a', clock);
        const b = new RecordingChannel('b', clock);
        const config = configWith(['a', 'b'], {
          grouping: {
            windowMs: p.windowMs,
            threshold: p.threshold,
            neverGroup: p.neverGroupCritical ? ['critical'] : [],
          },
        });
        for (const c of config.channels) c.rateLimit = { capacity: p.capacity, perMinute: p.perMinute };
        const log = new MemoryNotificationLog();
        const d = new NotificationDispatcher({ config, channels: [a, b], log, clock });
        await d.start();
        /**
         * Moves the clock timer by timer, letting the dispatcher finish what each one started
         * before the next: work a timer starts and finishes after an await happens at the
         * timer's time, as with a real clock (one jump would date it at the end of the jump).
         */
        const step = async (ms: number) => {
          const end = clock.now() + ms;
          for (let next = clock.nextAt(); next !== null && next <= end; next = clock.nextAt()) {
            clock.advance(Math.max(0, next - clock.now()));
            await d.settled();
          }
          clock.advance(end - clock.now());
          await d.settled();
        };
        const claimed = new Set<string>();
        for (const e of events) {
          await step(e.dt);
          const alert = makeAlert({
            id: `s${e.site}-a${e.alert}`,
            siteId: `site-${e.site}`,
            severity: e.severity,
            escalationLevel: e.level,
          });
          const queued = await d.notify({ alert, change: e.change });
          for (const ch of queued) claimed.add(`${ch}|${alert.id}:${e.change}:${e.level}`);
          await d.settled();
        }
        // let every window and token come due
        for (let i = 0; i < 400 && Object.values(d.backlog()).some((n) => n > 0); i++) {
          await step(5_000);
        }
        expect(d.backlog()).toEqual({ a: 0, b: 0 });
        await d.stop();

        for (const ch of [a, b]) {
          // bucket allowance: in any span [t_i, t_j] at most capacity + rate·span messages
          const times = ch.sent.map((s) => s.at);
          for (let i = 0; i < times.length; i++) {
            for (let j = i; j < times.length; j++) {
              const allowance = p.capacity + (p.perMinute * (times[j]! - times[i]!)) / 60_000;
              expect(j - i + 1).toBeLessThanOrEqual(allowance + 1e-9);
            }
          }
          // every claimed notification is in exactly one delivered message (single, group or summary)
          const keys = ch.keys();
          expect(new Set(keys).size).toBe(keys.length);
          expect(new Set(keys)).toEqual(
            new Set([...claimed].filter((k) => k.startsWith(`${ch.name}|`)).map((k) => k.slice(2))),
          );
        }
        const entries = await log.list({ limit: 100_000 });
        expect(entries.length).toBe(claimed.size);
        expect(entries.every((e) => e.status === 'delivered')).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
