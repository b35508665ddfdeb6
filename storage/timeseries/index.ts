import { join } from 'node:path';
import type { Clock } from '../../lib/clock.js';
import { ConfigError } from '../../lib/errors.js';
import type { Metrics } from '../../lib/metrics.js';
import { openDatabase } from '../sqlite/open.js';
import type { BatchOptions } from './batcher.js';
import type { TimeSeriesConfig } from './config.js';
import { EmbeddedTimeSeries } from './embedded.js';
import { InfluxTimeSeries } from './influx.js';
import type { TimeSeries } from './types.js';

export { PointBatcher } from './batcher.js';
export { TimeSeriesConfig } from './config.js';
export { EmbeddedTimeSeries } from './embedded.js';
export { InfluxTimeSeries } from './influx.js';
export { TelemetryRecorder } from './recorder.js';
export type * from './types.js';

/**
 * The configured time series (not started). The embedded one lives in its own
 * file, `{dataDir}/timeseries.db`, with `synchronous=NORMAL`: telemetry does not
 * need an fsync per commit, and it stays off the event store's write lock.
 */
export function createTimeSeries(
  config: TimeSeriesConfig,
  deps: { dataDir: string; clock?: Clock; metrics?: Metrics; env?: NodeJS.ProcessEnv },
): TimeSeries {
  const batch: Partial<BatchOptions> = {
    maxBatch: config.batch.maxPoints,
    flushEveryMs: config.batch.flushEveryMs,
    maxBuffered: config.batch.maxBuffered,
  };
  const onDrop = (n: number) =>
    deps.metrics?.counter('carewatch_timeseries_dropped_total', 'time-series points dropped').inc(n);
  const clock = deps.clock ? { clock: deps.clock } : {};
  if (config.backend === 'influx') {
    const influx = config.influx;
    if (!influx) throw new ConfigError('/timeseries/influx: required when /timeseries/backend is influx');
    return new InfluxTimeSeries({
      url: influx.url,
      username: influx.username,
      password: (deps.env ?? process.env).CAREWATCH_INFLUX_PASSWORD,
      layout: {
        database: influx.database,
        rawDuration: influx.rawDuration,
        downsampledDuration: influx.downsampledDuration,
      },
      batch,
      onDrop,
      ...clock,
    });
  }
  const db = openDatabase(join(deps.dataDir, 'timeseries.db'), { synchronous: 'NORMAL' });
  return new EmbeddedTimeSeries(db, {
    batch,
    onDrop,
    retentionMs: config.retentionDays * 24 * 3_600_000,
    closeDb: true,
    ...clock,
  });
}
