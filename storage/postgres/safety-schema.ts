import type { Migration } from '../sqlite/open.js';

/**
 * The accident register, the hazard ledger and the notification log in the
 * PostgreSQL dialect. Each set has its own version table, as in SQLite
 * (ACCIDENT_MIGRATIONS, HAZARD_MIGRATIONS, the notification log's
 * MIGRATIONS), and the versions mirror those one for one. Timestamps are
 * BIGINT milliseconds, flags BOOLEAN, JSON TEXT; `by` is a keyword here and
 * stays quoted so both dialects share the column names.
 */

/** One trigger function for every append-only table (also the media access log, storage/postgres/media.ts). */
export const APPEND_ONLY_FN = `
CREATE OR REPLACE FUNCTION carewatch_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$fn$;`;

export const appendOnly = (table: string) => `
CREATE TRIGGER ${table}_append_only_ud BEFORE UPDATE OR DELETE ON ${table}
  FOR EACH ROW EXECUTE FUNCTION carewatch_append_only();
CREATE TRIGGER ${table}_append_only_t BEFORE TRUNCATE ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION carewatch_append_only();`;

/** Applied with `migrate(pool, PG_ACCIDENT_MIGRATIONS, 'accident_migrations')`. */
export const PG_ACCIDENT_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `${APPEND_ONLY_FN}
CREATE TABLE accidents (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  alert_id TEXT,
  title TEXT NOT NULL,
  classified_at BIGINT NOT NULL,
  classified_by TEXT NOT NULL,
  deadline_at BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending_report', 'reported', 'overdue')),
  reported_at BIGINT,
  reported_late BOOLEAN NOT NULL DEFAULT FALSE,
  warned_at BIGINT,
  overdue_at BIGINT
);
CREATE UNIQUE INDEX accidents_alert ON accidents(alert_id) WHERE alert_id IS NOT NULL;
CREATE INDEX accidents_site ON accidents(site_id, classified_at);
CREATE INDEX accidents_pending ON accidents(deadline_at) WHERE state = 'pending_report';
CREATE TABLE accident_reports (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  accident_id TEXT NOT NULL REFERENCES accidents(id),
  at BIGINT NOT NULL,
  "by" TEXT NOT NULL,
  to_whom TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('phone', 'online', 'written')),
  note TEXT,
  late BOOLEAN NOT NULL
);
CREATE INDEX accident_reports_accident ON accident_reports(accident_id, id);
${appendOnly('accident_reports')}
`,
  },
];

/** Applied with `migrate(pool, PG_HAZARD_MIGRATIONS, 'hazard_migrations')`. */
export const PG_HAZARD_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `${APPEND_ONLY_FN}
CREATE TABLE hazards (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  source TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('panel_trouble', 'camera_offline', 'coverage_gap', 'repeated_false_alarms', 'other')),
  title TEXT NOT NULL,
  opened_at BIGINT NOT NULL,
  alert_id TEXT,
  responsible TEXT,
  rectify_by BIGINT,
  state TEXT NOT NULL CHECK (state IN ('open', 'rectifying', 'closed')),
  closed_at BIGINT,
  closed_by TEXT,
  close_note TEXT,
  escalated_at BIGINT
);
CREATE UNIQUE INDEX hazards_open_key ON hazards(site_id, source, kind) WHERE state <> 'closed';
CREATE UNIQUE INDEX hazards_alert ON hazards(alert_id) WHERE alert_id IS NOT NULL;
CREATE INDEX hazards_site ON hazards(site_id, opened_at);
CREATE INDEX hazards_deadline ON hazards(rectify_by) WHERE state <> 'closed' AND escalated_at IS NULL;
CREATE TABLE hazard_log (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  hazard_id TEXT NOT NULL REFERENCES hazards(id),
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  note TEXT
);
CREATE INDEX hazard_log_hazard ON hazard_log(hazard_id, id);
${appendOnly('hazard_log')}
CREATE TABLE hazard_watches (
  alert_id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  check_at BIGINT NOT NULL
);
CREATE INDEX hazard_watches_due ON hazard_watches(check_at);
CREATE TABLE hazard_false_alarms (
  alert_id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  source TEXT NOT NULL,
  resolved_at BIGINT NOT NULL,
  note TEXT NOT NULL,
  hazard_id TEXT
);
CREATE INDEX hazard_false_alarms_source ON hazard_false_alarms(site_id, source, resolved_at);
`,
  },
];

/**
 * Applied with `migrate(pool, PG_NOTIFY_MIGRATIONS, 'notify_migrations')`.
 * Two columns SQLite does not have: `n` orders entries with the same
 * created_at (SQLite uses its rowid); `owner` is the instance that claimed
 * the entry, which alone resends it after a restart, unless its lease in
 * `notify_instances` lapses and a live instance adopts it.
 */
export const PG_NOTIFY_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE notifications (
  dedup_key TEXT NOT NULL,
  channel TEXT NOT NULL,
  n BIGINT GENERATED ALWAYS AS IDENTITY,
  alert_id TEXT NOT NULL,
  site_id TEXT NOT NULL,
  change TEXT NOT NULL,
  level INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  message_id TEXT,
  message_kind TEXT,
  last_error TEXT,
  recipients TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  notification TEXT NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY (dedup_key, channel)
);
CREATE INDEX notifications_owner_pending ON notifications(owner, created_at) WHERE status = 'pending';
CREATE INDEX notifications_status ON notifications(status, created_at);
CREATE INDEX notifications_alert ON notifications(alert_id, created_at);
`,
  },
  {
    // each instance's lease: a pending entry whose owner stopped renewing is adopted by a live one
    version: 2,
    sql: `
CREATE TABLE notify_instances (
  id TEXT PRIMARY KEY,
  heartbeat_at BIGINT NOT NULL
);
`,
  },
];
