import type { Migration } from '../sqlite/open.js';

/**
 * The central store's schema in the PostgreSQL dialect. Versions mirror
 * CENTRAL_MIGRATIONS (storage/central-schema.ts) one for one: a change to the
 * SQLite schema gets the same version number here. Timestamps are BIGINT
 * milliseconds, flags BOOLEAN, JSON bodies TEXT (kept byte for byte, as in
 * SQLite), and AUTOINCREMENT keys identity columns.
 */
export const PG_CENTRAL_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  region TEXT,
  created_at BIGINT NOT NULL
);
CREATE TABLE gateways (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites(id),
  secret_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE gateway_presence (
  gateway_id TEXT PRIMARY KEY REFERENCES gateways(id),
  site_id TEXT NOT NULL,
  state TEXT NOT NULL,
  changed_at BIGINT NOT NULL,
  last_seen_at BIGINT,
  last_heartbeat_at BIGINT,
  heartbeat_interval_s DOUBLE PRECISION,
  outbox_depth BIGINT,
  reason TEXT
);
CREATE TABLE site_inventory (
  site_id TEXT PRIMARY KEY REFERENCES sites(id),
  received_at BIGINT NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  n BIGINT GENERATED ALWAYS AS IDENTITY,
  site_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  seq BIGINT NOT NULL,
  ts TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  drill BOOLEAN NOT NULL DEFAULT FALSE,
  gateway_id TEXT,
  body TEXT NOT NULL,
  processed BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX events_site_received ON events(site_id, received_at);
CREATE INDEX events_received ON events(received_at, n);
CREATE INDEX events_unprocessed ON events(received_at, n) WHERE NOT processed;
CREATE TABLE rejects (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  gateway_id TEXT,
  topic TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  excerpt TEXT
);
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  severity TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
  title TEXT NOT NULL,
  event_id TEXT,
  drill BOOLEAN NOT NULL DEFAULT FALSE,
  count INTEGER NOT NULL DEFAULT 1,
  opened_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  acked_at BIGINT,
  acked_by TEXT,
  resolved_at BIGINT,
  resolved_by TEXT,
  escalation_level INTEGER NOT NULL DEFAULT 0,
  next_escalation_at BIGINT
);
CREATE UNIQUE INDEX alerts_one_open ON alerts(site_id, source, type) WHERE state <> 'resolved';
CREATE INDEX alerts_due ON alerts(next_escalation_at) WHERE next_escalation_at IS NOT NULL;
CREATE INDEX alerts_site_state ON alerts(site_id, state);
CREATE INDEX alerts_opened ON alerts(opened_at);
CREATE TABLE alert_audit (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id TEXT NOT NULL REFERENCES alerts(id),
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT,
  level INTEGER,
  note TEXT,
  event_id TEXT
);
CREATE INDEX alert_audit_alert ON alert_audit(alert_id, id);
CREATE FUNCTION alert_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'alert_audit is append-only' USING ERRCODE = 'restrict_violation';
END
$fn$;
CREATE TRIGGER alert_audit_append_only_ud BEFORE UPDATE OR DELETE ON alert_audit
  FOR EACH ROW EXECUTE FUNCTION alert_audit_append_only();
CREATE TRIGGER alert_audit_append_only_t BEFORE TRUNCATE ON alert_audit
  FOR EACH STATEMENT EXECUTE FUNCTION alert_audit_append_only();
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  site_ids TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);
`,
  },
  {
    version: 2,
    sql: `
CREATE TABLE commands (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  name TEXT NOT NULL,
  args TEXT NOT NULL,
  actor TEXT NOT NULL,
  sent_at BIGINT NOT NULL,
  status TEXT NOT NULL,
  replied_at BIGINT,
  reply TEXT
);
CREATE INDEX commands_site ON commands(site_id, sent_at);
`,
  },
  {
    version: 3,
    sql: `
CREATE TABLE regions (
  id TEXT PRIMARY KEY,
  parent_id TEXT REFERENCES regions(id),
  name TEXT NOT NULL,
  level TEXT NOT NULL
);
ALTER TABLE users ADD COLUMN region_id TEXT REFERENCES regions(id);
`,
  },
  {
    version: 4,
    sql: `
ALTER TABLE alerts ADD COLUMN suppressed TEXT;
CREATE TABLE silences (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  type TEXT,
  source TEXT,
  starts_at BIGINT NOT NULL,
  ends_at BIGINT NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX silences_site_end ON silences(site_id, ends_at);
`,
  },
  {
    version: 5,
    sql: `
CREATE TABLE operators (
  id TEXT NOT NULL,
  site_id TEXT NOT NULL,
  name TEXT NOT NULL,
  certificate_no TEXT NOT NULL,
  certificate_expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (site_id, id)
);
CREATE TABLE fire_room_presence (
  site_id TEXT NOT NULL,
  operator_id TEXT NOT NULL,
  since BIGINT NOT NULL,
  PRIMARY KEY (site_id, operator_id)
);
CREATE TABLE fire_room_occupancy (site_id TEXT PRIMARY KEY, count INTEGER NOT NULL, at BIGINT NOT NULL);
CREATE TABLE attendance_log (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site_id TEXT NOT NULL,
  operator_id TEXT,
  action TEXT NOT NULL,
  count INTEGER,
  source TEXT NOT NULL,
  at BIGINT NOT NULL,
  event_id TEXT UNIQUE
);
CREATE INDEX attendance_site_at ON attendance_log(site_id, at);
CREATE TABLE post_checks (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  issued_at BIGINT NOT NULL,
  issued_by TEXT NOT NULL,
  deadline_at BIGINT NOT NULL,
  state TEXT NOT NULL,
  answered_at BIGINT,
  answered_by TEXT,
  via TEXT
);
CREATE INDEX post_checks_pending ON post_checks(deadline_at) WHERE state = 'pending';
CREATE TABLE duty_log (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  author TEXT NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX duty_log_site_at ON duty_log(site_id, at);
CREATE TABLE handovers (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  from_operators TEXT NOT NULL,
  to_operators TEXT NOT NULL,
  note TEXT NOT NULL,
  author TEXT NOT NULL
);
CREATE TABLE fire_room_settings (
  site_id TEXT PRIMARY KEY,
  min_operators INTEGER NOT NULL,
  max_shift_h DOUBLE PRECISION NOT NULL,
  random_post_checks_per_day DOUBLE PRECISION NOT NULL
);
`,
  },
  {
    version: 6,
    sql: `CREATE INDEX events_device_seq ON events(site_id, device_id, seq) WHERE processed;`,
  },
  {
    version: 7,
    sql: `
CREATE TABLE alert_key_seq (
  site_id TEXT NOT NULL,
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  last_seq BIGINT NOT NULL,
  last_op TEXT NOT NULL,
  PRIMARY KEY (site_id, source, type)
);`,
  },
  {
    // repeats sent at the current escalation level (reset on each climb): the compare-and-set key of a repeat
    version: 8,
    sql: `ALTER TABLE alerts ADD COLUMN repeat_count INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    // SQLite's migration 9 adds the cross-site list indexes this schema had from the start
    // (events_received, alerts_opened); kept as a version so both stores count the same
    version: 9,
    sql: `CREATE INDEX IF NOT EXISTS events_received ON events(received_at, n);
CREATE INDEX IF NOT EXISTS alerts_opened ON alerts(opened_at);`,
  },
];
