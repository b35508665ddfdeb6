import { join } from 'node:path';
import { ACCIDENT_MIGRATIONS, SqliteAccidentRepo } from '../../alerts/accidents/sqlite-repo.js';
import { HAZARD_MIGRATIONS, SqliteHazardRepo } from '../../alerts/hazards/sqlite-repo.js';
import { SqliteNotificationLog } from '../../alerts/notify/sqlite-log.js';
import type { SafetyStore } from '../safety-store.js';
import { type Db, migrate, openDatabase } from './open.js';

/**
 * Accidents and hazards in the central SQLite file (their own migration
 * tables), the notification log in `notifications.db`, opened on first use
 * so a central without notifications does not create it.
 */
export function openSqliteSafetyStore(dataDir: string): SafetyStore {
  const db = openDatabase(join(dataDir, 'central.db'), { synchronous: 'FULL' });
  try {
    migrate(db, ACCIDENT_MIGRATIONS, 'accident_migrations');
    migrate(db, HAZARD_MIGRATIONS, 'hazard_migrations');
  } catch (err) {
    db.close();
    throw err;
  }
  let notifyDb: Db | undefined;
  let notifyLog: SqliteNotificationLog | undefined;
  return {
    accidents: new SqliteAccidentRepo(db),
    hazards: new SqliteHazardRepo(db),
    notifyLog() {
      if (!notifyLog) {
        notifyDb = openDatabase(join(dataDir, 'notifications.db'), { synchronous: 'FULL' });
        notifyLog = new SqliteNotificationLog(notifyDb);
        notifyLog.migrate();
      }
      return notifyLog;
    },
    async close() {
      if (db.open) db.close();
      if (notifyDb?.open) notifyDb.close();
    },
  };
}
