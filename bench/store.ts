/**
 * `npm run bench:store`: what the embedded central's store costs its event
 * loop per attendance event, the kind `bench:ingest` sends. The three calls
 * an attendance event makes (`events.insertBatch`, the fire room's
 * `recordAttendanceMany`, the alert service's `markProcessedMany`) run on the
 * real store (a file, its migrations, its checkpoint worker), a batch at a
 * time, and the time each spends before it hands its fdatasync to the thread
 * pool is the event loop's share (wall time on this thread; run it on a quiet
 * machine). Baseline in the same run: the cheapest write of the same events,
 * each body inserted into a table with no index, in one relaxed transaction
 * per batch on its own file, without checkpoints.
 *
 * Knobs: STORE_EVENTS=100000 STORE_BATCH=256 STORE_ROUNDS=3 (median of rounds).
 */
import { join } from 'node:path';
import type { AttendanceEntry } from '../alerts/fire-room/types.js';
import { tempDir } from '../lib/testkit/procs.js';
import { buildEnvelope, type Envelope } from '../protocol/index.js';
import { openSqliteCentralStore } from '../storage/sqlite/central-store.js';
import { openDatabase } from '../storage/sqlite/open.js';
import { relaxedTransaction } from '../storage/sqlite/relaxed.js';

const EVENTS = Number(process.env.STORE_EVENTS ?? 100_000);
const BATCH = Number(process.env.STORE_BATCH ?? 256);
const ROUNDS = Number(process.env.STORE_ROUNDS ?? 3);
const SITES = 16;

interface Round {
  insert: number;
  attendance: number;
  marks: number;
  plain: number;
}

function events(round: number): Envelope[] {
  return Array.from({ length: EVENTS }, (_, i) =>
    buildEnvelope({
      kind: 'attendance',
      siteId: `bench-site-${(i % SITES) + 1}`,
      deviceId: `att-${((i >> 4) % 4) + 1}`,
      seq: round * EVENTS + i,
      data: {
        source: 'badge',
        action: i % 2 ? 'check_out' : 'check_in',
        operatorId: `op-${i % 7}`,
        room: 'fcr',
      },
    }),
  );
}

/** Nanoseconds `fn` runs before it returns its promise: the synchronous part, on this thread. */
async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const p = fn();
  const t1 = process.hrtime.bigint();
  return [Number(t1 - t0), await p];
}

async function round(dir: string, r: number): Promise<Round> {
  const evs = events(r);
  const store = openSqliteCentralStore(join(dir, `central-${r}.db`));
  const out: Round = { insert: 0, attendance: 0, marks: 0, plain: 0 };
  try {
    const receivedAt = Date.now();
    for (let k = 0; k < evs.length; k += BATCH) {
      const batch = evs.slice(k, k + BATCH);
      const [ti] = await timed(() =>
        store.events.insertBatch(batch.map((envelope) => ({ envelope, gatewayId: 'gw', receivedAt }))),
      );
      const items = batch.map((e) => {
        if (e.kind !== 'attendance') throw new TypeError(e.kind);
        const entry: AttendanceEntry = {
          siteId: e.siteId,
          operatorId: e.data.operatorId ?? null,
          action: e.data.action,
          count: e.data.count ?? null,
          source: `${e.data.source}:${e.deviceId}`,
          at: Date.parse(e.ts),
        };
        return { entry, eventId: e.id };
      });
      const [ta] = await timed(() => store.fireRoom.recordAttendanceMany(items));
      const [tm] = await timed(() => store.events.markProcessedMany(batch.map((e) => e.id)));
      out.insert += ti;
      out.attendance += ta;
      out.marks += tm;
    }
  } finally {
    await store.close();
  }
  const db = openDatabase(join(dir, `plain-${r}.db`), { synchronous: 'FULL' });
  try {
    // no checkpoint on this thread (the store's run in its worker): a checkpoint's fsyncs are no part of a write
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE plain (body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO plain (body) VALUES (?)');
    for (let k = 0; k < evs.length; k += BATCH) {
      const batch = evs.slice(k, k + BATCH);
      const t0 = process.hrtime.bigint();
      relaxedTransaction(db, () => {
        for (const e of batch) insert.run(JSON.stringify(e));
      });
      out.plain += Number(process.hrtime.bigint() - t0);
    }
  } finally {
    db.close();
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const us = (ns: number) => (ns / EVENTS / 1000).toFixed(2);

async function main(): Promise<void> {
  const dir = tempDir('cw-bench-store-');
  console.log(`bench:store: ${EVENTS} attendance events in batches of ${BATCH}, ${ROUNDS} rounds (medians)`);
  try {
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await round(dir.path, r));
    const m = (k: keyof Round) => median(rounds.map((x) => x[k]));
    const total = m('insert') + m('attendance') + m('marks');
    const plain = m('plain');
    console.log('\n| call, per event | event-loop time | ratio to the plain insert |');
    console.log('|---|---|---|');
    for (const [label, ns] of [
      ['events.insertBatch', m('insert')],
      ['fireRoom.recordAttendanceMany', m('attendance')],
      ['events.markProcessedMany', m('marks')],
      ['all three', total],
      ['baseline: body into an unindexed table', plain],
    ] as const) {
      console.log(`| ${label} | ${us(ns)} µs | ${(ns / plain).toFixed(2)} |`);
    }
    console.log('');
  } finally {
    dir.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
