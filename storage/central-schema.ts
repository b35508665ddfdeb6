import type { Migration } from './sqlite/open.js';

/** The central store's schema (SQLite dialect). */
export const CENTRAL_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  region TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE gateways (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites(id),
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE gateway_presence (
  gateway_id TEXT PRIMARY KEY REFERENCES gateways(id),
  site_id TEXT NOT NULL,
  state TEXT NOT NULL,
  changed_at INTEGER NOT NULL,
  last_seen_at INTEGER,
  last_heartbeat_at INTEGER,
  heartbeat_interval_s REAL,
  outbox_depth INTEGER,
  reason TEXT
);
CREATE TABLE site_inventory (
  site_id TEXT PRIMARY KEY REFERENCES sites(id),
  received_at INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  drill INTEGER NOT NULL DEFAULT 0,
  gateway_id TEXT,
  body TEXT NOT NULL,
  processed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_site_received ON events(site_id, received_at);
CREATE INDEX events_unprocessed ON events(received_at) WHERE processed = 0;
CREATE TABLE rejects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
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
  state TEXT NOT NULL,
  title TEXT NOT NULL,
  event_id TEXT,
  drill INTEGER NOT NULL DEFAULT 0,
  count INTEGER NOT NULL DEFAULT 1,
  opened_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  acked_at INTEGER,
  acked_by TEXT,
  resolved_at INTEGER,
  resolved_by TEXT,
  escalation_level INTEGER NOT NULL DEFAULT 0,
  next_escalation_at INTEGER
);
CREATE UNIQUE INDEX alerts_one_open ON alerts(site_id, source, type) WHERE state <> 'resolved';
CREATE INDEX alerts_due ON alerts(next_escalation_at) WHERE next_escalation_at IS NOT NULL;
CREATE INDEX alerts_site_state ON alerts(site_id, state);
CREATE TABLE alert_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL REFERENCES alerts(id),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT,
  level INTEGER,
  note TEXT,
  event_id TEXT
);
CREATE INDEX alert_audit_alert ON alert_audit(alert_id, id);
CREATE TRIGGER alert_audit_append_only_u BEFORE UPDATE ON alert_audit
  BEGIN SELECT RAISE(ABORT, 'alert_audit is append-only'); END;
CREATE TRIGGER alert_audit_append_only_d BEFORE DELETE ON alert_audit
  BEGIN SELECT RAISE(ABORT, 'alert_audit is append-only'); END;
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  site_ids TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
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
  sent_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  replied_at INTEGER,
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
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
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
  certificate_expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
);
CREATE TABLE fire_room_presence (
  site_id TEXT NOT NULL,
  operator_id TEXT NOT NULL,
  since INTEGER NOT NULL,
  PRIMARY KEY (site_id, operator_id)
);
CREATE TABLE fire_room_occupancy (site_id TEXT PRIMARY KEY, count INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE TABLE attendance_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id TEXT NOT NULL,
  operator_id TEXT,
  action TEXT NOT NULL,
  count INTEGER,
  source TEXT NOT NULL,
  at INTEGER NOT NULL,
  event_id TEXT UNIQUE
);
CREATE INDEX attendance_site_at ON attendance_log(site_id, at);
CREATE TABLE post_checks (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  issued_by TEXT NOT NULL,
  deadline_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  answered_at INTEGER,
  answered_by TEXT,
  via TEXT
);
CREATE INDEX post_checks_pending ON post_checks(deadline_at) WHERE state = 'pending';
CREATE TABLE duty_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  author TEXT NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX duty_log_site_at ON duty_log(site_id, at);
CREATE TABLE handovers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  from_operators TEXT NOT NULL,
  to_operators TEXT NOT NULL,
  note TEXT NOT NULL,
  author TEXT NOT NULL
);
CREATE TABLE fire_room_settings (
  site_id TEXT PRIMARY KEY,
  min_operators INTEGER NOT NULL,
  max_shift_h REAL NOT NULL,
  random_post_checks_per_day REAL NOT NULL
);
`,
  },
  {
    version: 6,
    sql: `CREATE INDEX events_device_seq ON events(site_id, device_id, seq) WHERE processed = 1;`,
  },
  {
    version: 7,
    sql: `
CREATE TABLE alert_key_seq (
  site_id TEXT NOT NULL,
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
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
    // the newest events and alerts across every site (an administrator's or a district's lists):
    // without these the lists sorted the whole table (the soak's /api/events?limit=100 took 102 ms
    // at 53,000 events and grew with them); PostgreSQL has had both from its first schema
    version: 9,
    sql: `CREATE INDEX events_received ON events(received_at);
CREATE INDEX alerts_opened ON alerts(opened_at);`,
  },
];
