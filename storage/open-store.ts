import { join } from 'node:path';
import { openPostgresCentralStore } from './postgres/central-store.js';
import { openSqliteCentralStore } from './sqlite/central-store.js';
import type { CentralStore } from './types.js';

/**
 * The central store: PostgreSQL when a connection string is given (config
 * `storage.postgresUrl` or `CAREWATCH_PG_URL`), otherwise the embedded SQLite
 * file in the data directory.
 */
export async function openCentralStore(opts: {
  dataDir: string;
  postgresUrl?: string | undefined;
}): Promise<CentralStore> {
  const url = opts.postgresUrl ?? process.env.CAREWATCH_PG_URL;
  return url ? openPostgresCentralStore(url) : openSqliteCentralStore(join(opts.dataDir, 'central.db'));
}
