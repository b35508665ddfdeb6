import { CENTRAL_MIGRATIONS } from '../central-schema.js';
import type { CentralStore } from '../types.js';
import { SqliteAlertRepo } from './alerts.js';
import { BackgroundCheckpointer, type CheckpointStats } from './checkpointer.js';
import { SqliteCommandRepo } from './commands.js';
import { SqliteEventRepo } from './events.js';
import { SqliteFireRoomRepo } from './fire-room.js';
import { migrate, openDatabase } from './open.js';
import { SqliteRegistryRepo } from './registry.js';
import { SqliteSilenceRepo } from './silences.js';
import { SqliteUserRepo } from './users.js';
import { closeWalSync } from './wal-sync.js';

/**
 * The embedded central store: one SQLite file in WAL mode, checkpointed from a
 * worker thread (`checkpoints`: that worker's figures; none for `:memory:`).
 */
export function openSqliteCentralStore(path: string): CentralStore & { checkpoints?: CheckpointStats } {
  const db = openDatabase(path, { synchronous: 'FULL' });
  migrate(db, CENTRAL_MIGRATIONS);
  const checkpointer =
    path === ':memory:' ? undefined : new BackgroundCheckpointer({ db, path, synchronous: 'FULL' });
  checkpointer?.start();
  return {
    ...(checkpointer ? { checkpoints: checkpointer.stats } : {}),
    commands: new SqliteCommandRepo(db),
    events: new SqliteEventRepo(db),
    alerts: new SqliteAlertRepo(db),
    registry: new SqliteRegistryRepo(db),
    fireRoom: new SqliteFireRoomRepo(db),
    silences: new SqliteSilenceRepo(db),
    users: new SqliteUserRepo(db),
    async close() {
      await checkpointer?.stop();
      closeWalSync(db);
      db.close();
    },
  };
}
