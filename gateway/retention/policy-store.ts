/**
 * The retention policy the central pushed (`retention_policy` command), kept
 * in the gateway's own database so that a restart does not fall back to the
 * value in site.yaml. One row; the 30-day floor is checked on the way in
 * (before anything is written), by the table itself, and again on the way out:
 * a stored value that fails the check is ignored and the configured value
 * applies.
 */
import { logger } from '../../lib/logger.js';
import { type Db, migrate } from '../../storage/sqlite/open.js';
import { checkRetentionDays, RETENTION_FLOOR_DAYS } from './policy.js';

const log = logger('gateway:retention');

const MIGRATIONS = [
  {
    version: 1,
    sql: `
CREATE TABLE retention_policy (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  site_days INTEGER NOT NULL CHECK (site_days >= ${RETENTION_FLOOR_DAYS}),
  set_at INTEGER NOT NULL
);
`,
  },
];

export interface StoredPolicy {
  siteDays: number;
  /** When the central's command was accepted (ms since the epoch). */
  setAt: number;
}

export class RetentionPolicyStore {
  private readonly s;

  constructor(db: Db) {
    migrate(db, MIGRATIONS, 'retention_migrations');
    this.s = {
      get: db.prepare('SELECT site_days AS siteDays, set_at AS setAt FROM retention_policy WHERE id = 1'),
      put: db.prepare(
        `INSERT INTO retention_policy (id, site_days, set_at) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET site_days = excluded.site_days, set_at = excluded.set_at`,
      ),
    };
  }

  /** The stored policy as written, or undefined when the central never set one. */
  load(): StoredPolicy | undefined {
    return this.s.get.get() as StoredPolicy | undefined;
  }

  /** Validates (`RETENTION_BELOW_FLOOR`, `RETENTION_INVALID`) and then stores; returns the days stored. */
  save(days: unknown, now = Date.now()): number {
    const n = checkRetentionDays(days, 'retention_policy.days');
    this.s.put.run(n, now);
    return n;
  }
}

/**
 * The site's retention days at start: the stored policy when there is one and
 * it passes the floor check, else the configured value (itself checked by the
 * caller). A stored value below 30 days is never applied.
 */
export function effectiveSiteDays(configDays: number, stored: StoredPolicy | undefined): number {
  if (!stored) return configDays;
  try {
    const days = checkRetentionDays(stored.siteDays, 'stored retention policy');
    log.info(
      { policyDays: days, configDays, setAt: new Date(stored.setAt).toISOString() },
      'retention policy from the central applies over the configured value',
    );
    return days;
  } catch (err) {
    log.error({ err, stored, configDays }, 'stored retention policy ignored: the configured value applies');
    return configDays;
  }
}
