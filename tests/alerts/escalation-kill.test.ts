import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EscalationConfig } from '../../alerts/escalation.js';
import { requireBuild, tempDir } from '../../lib/testkit/procs.js';
import { buildEnvelope } from '../../protocol/index.js';
import { openSqliteCentralStore } from '../../storage/sqlite/central-store.js';

const WORKER = join(import.meta.dirname, '../../dist/lib/testkit/escalation-worker.js');
const T0 = Date.UTC(2026, 5, 1, 8);
/** Three levels, 60 s each, one reminder 20 s into every level. */
const CHAIN: EscalationConfig = {
  ackTimeoutS: 60,
  levels: ['on_duty', 'head', 'dispatch'],
  repeats: 1,
  repeatEveryS: 20,
};

/** One alert service process on the central's SQLite file, its clock driven by the test. */
class Worker {
  private n = 0;
  private constructor(private readonly child: ChildProcess) {}

  static async start(db: string, at: number): Promise<Worker> {
    const child = fork(WORKER, [db, String(at), JSON.stringify(CHAIN)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let err = '';
    child.stderr?.on('data', (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${err}`)));
    });
    return new Worker(child);
  }

  send(m: Record<string, unknown>): Promise<void> {
    const n = ++this.n;
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error('worker died'));
      const onMessage = (r: { op: string; n: number }) => {
        if (r.op !== 'done' || r.n !== n) return;
        this.child.off('message', onMessage);
        this.child.off('exit', onExit); // one listener per request would pile up on the child
        resolve();
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send({ ...m, n });
    });
  }

  /** No shutdown, no flush: the process is gone between two instructions. */
  async kill(): Promise<void> {
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }
}

const press = buildEnvelope({
  kind: 'emergency_call',
  siteId: 's1',
  deviceId: 'btn-1',
  seq: 0,
  ts: new Date(T0),
  data: { action: 'pressed' },
});

/** The escalation steps of the one alert in the file, as (action, level, time after T0). */
async function steps(db: string): Promise<string[]> {
  const store = openSqliteCentralStore(db);
  try {
    const [alert, ...more] = await store.alerts.list({});
    expect(more).toEqual([]);
    return (await store.alerts.audit(alert!.id))
      .filter((a) => a.action === 'escalated' || a.action === 'renotified')
      .map((a) => `${a.action}@L${a.level}+${(a.at - T0) / 1000}s`);
  } finally {
    await store.close();
  }
}

/**
 * Runs the alert for `totalS` simulated seconds in 10 s steps; before the
 * steps in `kills` the process is SIGKILLed, and a new one starts on the same
 * file at `downS` seconds later than the clock stood.
 */
async function run(db: string, totalS: number, kills: Map<number, number>): Promise<void> {
  let at = T0;
  let w = await Worker.start(db, at);
  await w.send({ op: 'event', envelope: press });
  for (let step = 1; step * 10 <= totalS; step++) {
    const down = kills.get(step);
    if (down !== undefined) {
      await w.kill();
      at += down * 1000;
      w = await Worker.start(db, at);
    }
    await w.send({ op: 'advance', ms: 10_000 });
    at += 10_000;
  }
  await w.kill();
}

describe('escalation with an injected clock across SIGKILLs of its process', () => {
  const dirs: Array<{ cleanup: () => void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });
  const db = () => {
    const d = tempDir('cw-esckill-');
    dirs.push(d);
    return `${d.path}/central.db`;
  };

  it('killed mid-wait at any point, restarted at once: the same steps at the same times as without a kill', async () => {
    requireBuild();
    const reference = db();
    await run(reference, 240, new Map());
    const expected = await steps(reference);
    // the chain as configured: a reminder 20 s into each level, a level every 60 s, the top level keeps its reminder
    expect(expected).toEqual([
      'renotified@L0+20s',
      'escalated@L1+60s',
      'renotified@L1+80s',
      'escalated@L2+120s',
      'renotified@L2+140s',
    ]);
    const killed = db();
    // kills just before a reminder, just before a climb, right after one, twice in a row
    await run(
      killed,
      240,
      new Map([
        [2, 0],
        [6, 0],
        [7, 0],
        [12, 0],
        [13, 0],
        [20, 0],
      ]),
    );
    expect(await steps(killed)).toEqual(expected);
  }, 120_000);

  it('down across several deadlines: catches up once per level, none fired twice', async () => {
    requireBuild();
    const path = db();
    // killed 30 s in (after the first reminder), back 100 s later, past the first climb and its reminder
    await run(path, 240, new Map([[4, 100]]));
    const got = await steps(path);
    console.log(`escalation across a 100 s outage: ${got.join(', ')}`);
    expect(got.filter((s) => s.startsWith('escalated')).map((s) => s.split('+')[0])).toEqual([
      'escalated@L1',
      'escalated@L2',
    ]);
    expect(new Set(got).size).toBe(got.length);
    const levels = got.map((s) => Number(s.match(/@L(\d)/)![1]));
    expect(levels).toEqual([...levels].sort());
  }, 120_000);
});
