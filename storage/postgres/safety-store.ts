import { hostname } from 'node:os';
import { CarewatchError, errorMessage } from '../../lib/errors.js';
import type { SafetyStore } from '../safety-store.js';
import { PgAccidentRepo } from './accidents.js';
import { createPool, migrate, type PoolOptions, redactUrl } from './db.js';
import { PgHazardRepo } from './hazards.js';
import { PgNotificationLog } from './notify-log.js';
import { PG_ACCIDENT_MIGRATIONS, PG_HAZARD_MIGRATIONS, PG_NOTIFY_MIGRATIONS } from './safety-schema.js';

/**
 * Accidents, hazards and the notification log in the central's PostgreSQL
 * database, on a small pool of their own (4 connections by default). Each
 * set keeps its own migration table, as in SQLite; the advisory lock of
 * `migrate` lets instances start together. `instanceId` names this central
 * instance in the notification log (default: the host name); it must stay
 * the same across restarts, as the MQTT client id does.
 */
export async function openPostgresSafetyStore(
  connectionString: string,
  opts: PoolOptions & { instanceId?: string | undefined } = {},
): Promise<SafetyStore> {
  const { instanceId = hostname(), ...poolOpts } = opts;
  const pool = createPool(connectionString, { max: 4, ...poolOpts });
  try {
    await migrate(pool, PG_ACCIDENT_MIGRATIONS, 'accident_migrations');
    await migrate(pool, PG_HAZARD_MIGRATIONS, 'hazard_migrations');
    await migrate(pool, PG_NOTIFY_MIGRATIONS, 'notify_migrations');
  } catch (err) {
    await pool.end().catch(() => {});
    if (err instanceof CarewatchError) throw err;
    throw new CarewatchError(
      'STORAGE_OPEN_FAILED',
      `cannot open PostgreSQL store ${redactUrl(connectionString)}: ${errorMessage(err)}`,
      { url: redactUrl(connectionString) },
      { cause: err },
    );
  }
  const notifyLog = new PgNotificationLog(pool, instanceId);
  let closed: Promise<void> | undefined;
  return {
    accidents: new PgAccidentRepo(pool),
    hazards: new PgHazardRepo(pool),
    notifyLog: () => notifyLog,
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
