import type { AccidentRepo } from '../alerts/accidents/types.js';
import type { HazardRepo } from '../alerts/hazards/types.js';
import type { NotificationLog } from '../alerts/notify/log.js';
import { openPostgresSafetyStore } from './postgres/safety-store.js';
import { openSqliteSafetyStore } from './sqlite/safety-store.js';

/**
 * The accident register, the hazard ledger and the notification log: the
 * alert-side records that live beside the central store, in the same engine.
 */
export interface SafetyStore {
  accidents: AccidentRepo;
  hazards: HazardRepo;
  /** The notification log (SQLite opens its file on the first call). */
  notifyLog(): NotificationLog;
  close(): Promise<void>;
}

/**
 * PostgreSQL when the central store is (config `storage.postgresUrl` or
 * `CAREWATCH_PG_URL`, as in openCentralStore), so every central instance
 * shares one register, ledger and log; otherwise SQLite files in the data
 * directory (central.db, notifications.db).
 */
export async function openSafetyStore(opts: {
  dataDir: string;
  postgresUrl?: string | undefined;
  /** This instance on a shared store, stable across restarts (see openPostgresSafetyStore). */
  instanceId?: string | undefined;
}): Promise<SafetyStore> {
  const url = opts.postgresUrl ?? process.env.CAREWATCH_PG_URL;
  return url
    ? openPostgresSafetyStore(url, { instanceId: opts.instanceId })
    : openSqliteSafetyStore(opts.dataDir);
}
