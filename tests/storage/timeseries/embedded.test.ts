import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../lib/clock.js';
import { migrate, openDatabase } from '../../../storage/sqlite/open.js';
import { EmbeddedTimeSeries, TIMESERIES_MIGRATIONS } from '../../../storage/timeseries/embedded.js';
import { T0, timeSeriesContract } from './contract.js';

const tick = () => new Promise((r) => setImmediate(r));

timeSeriesContract('embedded (SQLite)', async () => {
  const db = openDatabase(':memory:');
  const series = new EmbeddedTimeSeries(db);
  await series.start();
  return {
    series,
    async cleanup() {
      await series.stop();
      db.close();
    },
  };
});

describe('EmbeddedTimeSeries with an injected clock', () => {
  const count = (db: ReturnType<typeof openDatabase>) =>
    (db.prepare('SELECT COUNT(*) AS n FROM ts_events').get() as { n: number }).n;

  it('writes when the flush interval has passed, or at once when a batch is full', async () => {
    const clock = new ManualClock(T0);
    const db = openDatabase(':memory:');
    const series = new EmbeddedTimeSeries(db, { clock, batch: { flushEveryMs: 1000, maxBatch: 10 } });
    await series.start();
    series.write([{ m: 'events', at: T0, siteId: 's', kind: 'button_call' }]);
    await tick();
    expect(count(db)).toBe(0);
    clock.advance(999);
    await tick();
    expect(count(db)).toBe(0);
    clock.advance(1);
    await tick();
    expect(count(db)).toBe(1);
    series.write(
      Array.from({ length: 25 }, (_, i) => ({ m: 'events', at: T0 + i, siteId: 's', kind: 'k' }) as const),
    );
    await tick();
    expect(count(db)).toBe(26);
    expect(series.stats()).toEqual({ buffered: 0, written: 26, dropped: 0, failedFlushes: 0 });
    await series.stop();
  });

  it('keeps points for the retention period, then deletes them hourly', async () => {
    const clock = new ManualClock(T0);
    const db = openDatabase(':memory:');
    const series = new EmbeddedTimeSeries(db, { clock, retentionMs: 24 * 3_600_000 });
    await series.start();
    series.write([
      { m: 'events', at: T0, siteId: 's', kind: 'a' },
      { m: 'events', at: T0 + 3 * 3_600_000, siteId: 's', kind: 'a' },
      { m: 'gateway_heartbeat', at: T0, siteId: 's', gatewayId: 'g', uptimeS: 1, outboxDepth: 0 },
    ]);
    await series.flush();
    clock.advance(24 * 3_600_000);
    expect(count(db)).toBe(2);
    clock.advance(3_600_000); // the hourly prune at T0 + 25 h deletes what is older than T0 + 1 h
    expect(count(db)).toBe(1);
    expect(await series.gatewayTelemetry('s', 0)).toEqual([]);
    await series.stop();
  });

  it('applies its migrations once, in its own table', async () => {
    const db = openDatabase(':memory:');
    await new EmbeddedTimeSeries(db).start();
    await new EmbeddedTimeSeries(db).start();
    expect(db.prepare('SELECT version FROM timeseries_migrations').all()).toEqual([
      { version: 1 },
      { version: 2 },
    ]);
  });

  it('keeps the rows of a file from before events were summed: each counts one', async () => {
    const db = openDatabase(':memory:');
    migrate(db, TIMESERIES_MIGRATIONS.slice(0, 1), 'timeseries_migrations');
    const old = db.prepare('INSERT INTO ts_events (at, site_id, kind) VALUES (?, ?, ?)');
    for (let i = 0; i < 3; i++) old.run(T0 + i, 's', 'attendance');
    const series = new EmbeddedTimeSeries(db, { closeDb: true });
    await series.start();
    series.write([{ m: 'events', at: T0 + 1000, siteId: 's', kind: 'attendance', count: 5 }]);
    await series.flush();
    expect(await series.eventCountsByKind(['s'], T0, T0 + 3_600_000, 3_600_000)).toEqual([
      { t: T0, kind: 'attendance', count: 8 },
    ]);
    await series.stop();
  });
});
