import { logger } from '../lib/logger.js';
import {
  buildEnvelope,
  type Envelope,
  type EnvelopeOf,
  KINDS,
  type KindName,
  siteTopic,
} from '../protocol/index.js';
import { type Db, migrate } from '../storage/sqlite/open.js';
import { LANE, laneOf } from './priorities.js';

const log = logger('gateway:outbox');

export interface OutboxEntry {
  seq: number;
  id: string;
  priority: number;
  topic: string;
  payload: Buffer;
  createdAt: number;
}

export interface NewEvent<K extends KindName = KindName> {
  kind: K;
  deviceId: string;
  data: EnvelopeOf<K>['data'];
  drill?: boolean;
  ts?: Date;
}

const MIGRATIONS = [
  {
    version: 1,
    sql: `
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  priority INTEGER NOT NULL,
  topic TEXT NOT NULL,
  payload BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX outbox_drain ON outbox(priority, seq);
CREATE TABLE device_seq (device_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
`,
  },
  {
    version: 2,
    sql: `
ALTER TABLE outbox ADD COLUMN device_id TEXT;
CREATE INDEX outbox_device ON outbox(device_id, priority);
`,
  },
];

/**
 * The durable store-and-forward queue. An event is minted (id, per-device
 * sequence) and written in one transaction, and `add` resolves only after
 * that commit, so the device is acknowledged only for what is on disk.
 * Commits are grouped: everything added in one event-loop turn shares one
 * fsync. Entries leave only through `remove`, called on the broker's PUBACK.
 */
export class Outbox {
  private pending: Array<{ ev: NewEvent; resolve: (e: Envelope) => void; reject: (err: unknown) => void }> =
    [];
  private scheduled = false;
  private readonly stmts;
  private readonly commit;
  private listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(env: Envelope) => void>();
  private removals: number[] = [];
  private readonly removeMany: (seqs: number[]) => void;

  constructor(
    private readonly db: Db,
    private readonly siteId: string,
    /** Whether the uplink is up now; decides between the live and the backlog alarm lane. */
    private readonly isLive: () => boolean = () => false,
  ) {
    migrate(db, MIGRATIONS, 'outbox_migrations');
    this.stmts = {
      nextSeq: db.prepare(
        `INSERT INTO device_seq (device_id, seq) VALUES (?, 0)
         ON CONFLICT(device_id) DO UPDATE SET seq = seq + 1 RETURNING seq`,
      ),
      insert: db.prepare(
        'INSERT INTO outbox (id, priority, topic, payload, created_at, device_id) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      queuedInLane: db.prepare('SELECT 1 FROM outbox WHERE device_id = ? AND priority = ? LIMIT 1'),
      remove: db.prepare('DELETE FROM outbox WHERE seq = ?'),
      depth: db.prepare('SELECT count(*) AS n, min(created_at) AS oldest FROM outbox'),
    };
    this.removeMany = db.transaction((seqs: number[]) => {
      for (const s of seqs) this.stmts.remove.run(s);
    });
    this.commit = db.transaction((batch: NewEvent[]) =>
      batch.map((ev) => {
        const { seq } = this.stmts.nextSeq.get(ev.deviceId) as { seq: number };
        const env = buildEnvelope({
          kind: ev.kind,
          siteId: this.siteId,
          deviceId: ev.deviceId,
          seq,
          data: ev.data as never,
          ...(ev.ts ? { ts: ev.ts } : {}),
          ...(ev.drill ? { drill: true } : {}),
        }) as Envelope;
        this.stmts.insert.run(
          env.id,
          this.priorityOf(ev),
          siteTopic(this.siteId, KINDS[ev.kind].channel),
          Buffer.from(JSON.stringify(env)),
          Date.now(),
          ev.deviceId,
        );
        return env;
      }),
    );
  }

  /**
   * An alarm raised while the link is up goes into the live lane, ahead of a
   * backlog of older alarms from other devices, unless its own device still
   * has alarms queued in the backlog lane (then it waits behind them, so one
   * device's events never swap). While the link is down everything queues
   * as backlog.
   */
  private priorityOf(ev: NewEvent): number {
    const lane = laneOf(ev.kind);
    if (lane !== LANE.alarm || !this.isLive()) return lane;
    return this.stmts.queuedInLane.get(ev.deviceId, LANE.alarm) ? LANE.alarm : LANE.live;
  }

  /** Mints and durably stores an event; resolves with its envelope after the commit. */
  add<K extends KindName>(ev: NewEvent<K>): Promise<EnvelopeOf<K>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ev: ev as NewEvent, resolve: resolve as (e: Envelope) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let envs: Envelope[];
    try {
      envs = this.commit(batch.map((b) => b.ev));
      for (const [i, b] of batch.entries()) b.resolve(envs[i]!);
    } catch (err) {
      for (const b of batch) b.reject(err);
      return;
    }
    for (const fn of this.listeners) fn();
    for (const fn of this.eventListeners) {
      for (const env of envs) {
        try {
          fn(env);
        } catch (err) {
          log.error({ err, kind: env.kind }, 'outbox event listener failed');
        }
      }
    }
  }

  /** Called with each event after the commit that stored it (e.g. to cut a clip around an alarm). */
  onEvent(fn: (env: Envelope) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  /** Called after every commit that added entries. */
  onAdded(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * The next entries to send: alarm lane first, then by age. `skip` holds
   * seqs already in flight; acknowledged entries awaiting their batched
   * delete are skipped too.
   */
  peek(limit: number, skip: ReadonlySet<number>): OutboxEntry[] {
    if (limit <= 0) return [];
    // in-flight entries are few (bounded by the window), so skipping them in SQL stays cheap
    const rows = this.db
      .prepare(
        `SELECT seq, id, priority, topic, payload, created_at FROM outbox
         WHERE seq NOT IN (SELECT value FROM json_each(?)) ORDER BY priority, seq LIMIT ?`,
      )
      .all(JSON.stringify([...skip, ...this.removals]), limit) as Array<{
      seq: number;
      id: string;
      priority: number;
      topic: string;
      payload: Buffer;
      created_at: number;
    }>;
    return rows.map((r) => ({
      seq: r.seq,
      id: r.id,
      priority: r.priority,
      topic: r.topic,
      payload: r.payload,
      createdAt: r.created_at,
    }));
  }

  /**
   * Drops an entry after its PUBACK. Removals are batched into one
   * transaction per event-loop turn; a crash before that commit only means
   * the entry is sent again, and the central drops it by its id.
   */
  remove(seq: number): void {
    this.removals.push(seq);
    if (this.removals.length === 1) setImmediate(() => this.flushRemovals());
  }

  private flushRemovals(): void {
    const seqs = this.removals;
    this.removals = [];
    if (seqs.length) this.removeMany(seqs);
  }

  /** Commits pending removals now (on shutdown). */
  flushNow(): void {
    this.flushRemovals();
    this.flush();
  }

  stats(now = Date.now()): { depth: number; oldestAgeS: number | null } {
    const r = this.stmts.depth.get() as { n: number; oldest: number | null };
    return { depth: r.n, oldestAgeS: r.oldest === null ? null : Math.max(0, (now - r.oldest) / 1000) };
  }
}
