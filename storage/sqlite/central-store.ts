import { CENTRAL_MIGRATIONS } from '../central-schema.js';
import type { CentralStore } from '../types.js';
import { SqliteAlertRepo } from './alerts.js';
import { SqliteCommandRepo } from './commands.js';
import { SqliteEventRepo } from './events.js';
import { SqliteFireRoomRepo } from './fire-room.js';
import { migrate, openDatabase } from './open.js';
import { SqliteRegistryRepo } from './registry.js';
import { SqliteSilenceRepo } from './silences.js';
import { SqliteUserRepo } from './users.js';

/** The embedded central store: one SQLite file in WAL mode. */
export function openSqliteCentralStore(path: string): CentralStore {
  const db = openDatabase(path, { synchronous: 'FULL' });
  migrate(db, CENTRAL_MIGRATIONS);
  return {
    commands: new SqliteCommandRepo(db),
    events: new SqliteEventRepo(db),
    alerts: new SqliteAlertRepo(db),
    registry: new SqliteRegistryRepo(db),
    fireRoom: new SqliteFireRoomRepo(db),
    silences: new SqliteSilenceRepo(db),
    users: new SqliteUserRepo(db),
    async close() {
      db.close();
    },
  };
}
