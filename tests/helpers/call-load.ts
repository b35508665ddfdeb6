import mqtt from 'mqtt';
import pgLib from 'pg';
import { expect } from 'vitest';
import type { Proc } from './procs.js';
import { until } from './procs.js';
import { api, login, type Setup } from './site.js';

/**
 * The scale fault tests' load: bedside buttons on a site's local bus, each
 * round a press and its cancel per device, `pauseMs` apart, with `onRound`
 * called after each round (where a test breaks something).
 */
export async function pressRounds(
  s: Setup,
  devices: string[],
  rounds: number,
  onRound: (r: number) => Promise<void> | void,
  pauseMs = 150,
): Promise<void> {
  const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.busPort}`, {
    clientId: 'buttons',
    reconnectPeriod: 200,
  });
  try {
    for (let r = 0; r < rounds; r++) {
      for (const d of devices) {
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'single' }), { qos: 1 });
        await dev.publishAsync(`zigbee2mqtt/${d}`, JSON.stringify({ action: 'double' }), { qos: 1 });
      }
      await onRound(r);
      await new Promise((res) => setTimeout(res, pauseMs));
    }
  } finally {
    await dev.endAsync();
  }
}

/**
 * Waits until every call of `pressRounds` is stored in PostgreSQL and checks
 * each device's sequence numbers are there exactly once; then until every
 * press is in exactly one emergency-call alert, all resolved (the cancel
 * follows each press), with nothing left unprocessed. Returns the alerts.
 */
export async function expectEveryCallOnce(o: {
  pgUrl: string;
  site: Setup;
  httpBase: string;
  devices: string[];
  rounds: number;
  procs: Proc[];
  withinMs?: number;
}): Promise<Array<{ id: string; state: string; count: number }>> {
  const within = o.withinMs ?? 90_000;
  const total = o.rounds * o.devices.length * 2;
  const presses = o.rounds * o.devices.length;
  const logs = () => o.procs.map((p) => p.output().slice(-3000)).join('\n---\n');
  const db = new pgLib.Client({ connectionString: o.pgUrl });
  await db.connect();
  try {
    type Row = { device_id: string; seq: number };
    let rows: Row[] = [];
    await until(async () => {
      rows = (await db.query<Row>("SELECT device_id, seq FROM events WHERE kind = 'emergency_call'")).rows;
      return rows.length >= total;
    }, within).catch((err) => {
      throw new Error(`${rows.length} of ${total} calls stored: ${String(err)}\n${logs()}`);
    });
    for (const d of o.devices) {
      const seqs = rows
        .filter((e) => e.device_id === d)
        .map((e) => Number(e.seq))
        .sort((x, y) => x - y);
      expect(seqs, d).toEqual(Array.from({ length: o.rounds * 2 }, (_, i) => i));
    }

    type A = { id: string; state: string; count: number; type: string };
    const view = { ...o.site, base: o.httpBase };
    let calls: A[] = [];
    await until(async () => {
      const token = await login(view);
      const r = await api<{ alerts: A[] }>(view, token, '/api/alerts?limit=1000');
      calls = r.body.alerts.filter((x) => x.type === 'emergency_call');
      const counted = calls.reduce((n, x) => n + x.count, 0);
      return counted >= presses && calls.every((x) => x.state === 'resolved');
    }, within).catch(async (err) => {
      const stuck = await db.query(
        "SELECT device_id, seq FROM events WHERE kind = 'emergency_call' AND NOT processed",
      );
      throw new Error(
        `${String(err)}: ${calls.reduce((n, x) => n + x.count, 0)} of ${presses} calls in ${calls.length} alerts; ` +
          `unresolved ${JSON.stringify(calls.filter((x) => x.state !== 'resolved'))}; ` +
          `unprocessed ${JSON.stringify(stuck.rows)}\n${logs()}`,
      );
    });
    // every press in exactly one alert: none lost, none doubled
    expect(calls.reduce((n, x) => n + x.count, 0)).toBe(presses);
    // what was stored but not applied when the fault hit is applied later (the sweep announces it again)
    let left: Array<{ kind: string; n: number }> = [];
    await until(async () => {
      left = (
        await db.query<{ kind: string; n: number }>(
          'SELECT kind, count(*)::int AS n FROM events WHERE NOT processed GROUP BY kind',
        )
      ).rows;
      return left.length === 0;
    }, within).catch((err) => {
      throw new Error(`events left unprocessed ${JSON.stringify(left)}: ${String(err)}\n${logs()}`);
    });
    return calls;
  } finally {
    await db.end();
  }
}

/** The process is still the one started (no exit) and answers ready. */
export async function expectAliveAndReady(p: Proc, httpPort: number): Promise<void> {
  expect(p.child.exitCode, p.output().slice(-2000)).toBeNull();
  expect(p.child.signalCode).toBeNull();
  expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(200);
}
