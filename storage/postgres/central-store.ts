import { CarewatchError, errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import type { CentralStore } from '../types.js';
import { PgAlertRepo } from './alerts.js';
import { PgCommandRepo } from './commands.js';
import { createPool, migrate, type PoolOptions, redactUrl } from './db.js';
import { PgEventRepo } from './events.js';
import { PgFireRoomRepo } from './fire-room.js';
import { PgRegistryRepo } from './registry.js';
import { PG_CENTRAL_MIGRATIONS } from './schema.js';
import { PgSilenceRepo } from './silences.js';
import { PgUserRepo } from './users.js';

const log = logger('storage:pg');

/**
 * The central store on PostgreSQL, for several central instances sharing one
 * database. Connects a pool, applies the missing migrations (serialised by an
 * advisory lock, so instances may start together) and returns the same
 * repositories as the SQLite store. Exactly-once effects rest on the database:
 * event ids are primary keys, events are claimed `processed false → true`,
 * one open alert per key is a partial unique index, and escalations,
 * transitions, post checks and command replies are compare-and-set.
 */
export async function openPostgresCentralStore(
  connectionString: string,
  opts: PoolOptions = {},
): Promise<CentralStore> {
  const pool = createPool(connectionString, opts);
  try {
    await migrate(pool, PG_CENTRAL_MIGRATIONS);
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
  log.info({ url: redactUrl(connectionString) }, 'PostgreSQL central store open');
  let closed: Promise<void> | undefined;
  return {
    commands: new PgCommandRepo(pool),
    events: new PgEventRepo(pool),
    alerts: new PgAlertRepo(pool),
    registry: new PgRegistryRepo(pool),
    fireRoom: new PgFireRoomRepo(pool),
    silences: new PgSilenceRepo(pool),
    users: new PgUserRepo(pool),
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
