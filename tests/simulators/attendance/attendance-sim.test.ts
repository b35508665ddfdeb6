import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttendanceAdapter } from '../../../gateway/adapters/attendance.js';
import { LocalBus } from '../../../gateway/local-bus.js';
import { Outbox } from '../../../gateway/outbox.js';
import { Metrics } from '../../../lib/metrics.js';
import { decodeEnvelope } from '../../../protocol/index.js';
import { AttendanceSimulator, parseAttendanceScript } from '../../../simulators/attendance/attendance-sim.js';
import { type Db, openDatabase } from '../../../storage/sqlite/open.js';
import { cli, requireBuild, tempDir } from '../../helpers/procs.js';

/**
 * The attendance simulator against the gateway's own local bus (aedes on
 * loopback, handlers run before the PUBACK) with the real attendance adapter
 * behind it: the exact topics and payloads it publishes, and that each one
 * becomes a valid queued envelope.
 */
describe('attendance simulator on a gateway local bus', () => {
  let dir: { path: string; cleanup: () => void };
  let db: Db;
  let outbox: Outbox;
  let metrics: Metrics;
  let bus: LocalBus;
  let received: Array<{ topic: string; payload: string }>;
  const sims: AttendanceSimulator[] = [];

  beforeEach(async () => {
    dir = tempDir('cw-attsim-');
    db = openDatabase(`${dir.path}/gw.db`, { synchronous: 'NORMAL' });
    outbox = new Outbox(db, 'site-a');
    metrics = new Metrics();
    const adapter = new AttendanceAdapter({
      devices: [
        { deviceId: 'badge-fcr', source: 'badge', room: '消防控制室' },
        { deviceId: 'face-1', source: 'face' },
        { deviceId: 'pir-1', source: 'presence', room: '消防控制室' },
      ],
      outbox,
      metrics,
    });
    received = [];
    bus = new LocalBus({
      host: '127.0.0.1',
      port: 0,
      handler: async (topic, payload) => {
        received.push({ topic, payload: payload.toString() });
        if (!adapter.claims(topic)) throw new Error(`not an attendance topic: ${topic}`);
        await adapter.handle(topic, payload);
      },
    });
    await bus.start();
  });
  afterEach(async () => {
    while (sims.length) await sims.pop()?.stop();
    await bus.stop();
    db.close();
    dir.cleanup();
  });

  const simulator = async () => {
    const sim = new AttendanceSimulator(`mqtt://127.0.0.1:${bus.port}`);
    sims.push(sim);
    await sim.start();
    return sim;
  };
  const queued = () => outbox.peek(10_000, new Set());
  const rejected = async () =>
    (await metrics.text())
      .split('\n')
      .filter((l) => l.startsWith('carewatch_gateway_local_rejected_total{'))
      .join('\n');

  it('publishes the scripted check-ins, check-outs and occupancy, each queued as a valid envelope', async () => {
    const sim = await simulator();
    const t0 = Date.now();
    await sim.run(
      parseAttendanceScript(
        'in badge-fcr op-1; in face-1 op-2\noccupancy pir-1 2; wait 150; out badge-fcr op-2; occupancy pir-1 0',
      ),
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140); // the wait step waited

    // run() resolves on the PUBACKs, which the local bus sends only after the handler stored the message
    expect(received).toEqual([
      { topic: 'attendance/badge-fcr', payload: '{"action":"check_in","operatorId":"op-1"}' },
      { topic: 'attendance/face-1', payload: '{"action":"check_in","operatorId":"op-2"}' },
      { topic: 'attendance/pir-1', payload: '{"occupancy":2}' },
      { topic: 'attendance/badge-fcr', payload: '{"action":"check_out","operatorId":"op-2"}' },
      { topic: 'attendance/pir-1', payload: '{"occupancy":0}' },
    ]);

    const entries = queued();
    const envelopes = entries.map((e) => {
      const d = decodeEnvelope(e.payload);
      if (!d.ok) throw new Error(`invalid envelope: ${d.message}`);
      return d.value;
    });
    expect(envelopes.map((e) => [e.kind, e.siteId, e.deviceId, e.data])).toEqual([
      [
        'attendance',
        'site-a',
        'badge-fcr',
        { source: 'badge', action: 'check_in', operatorId: 'op-1', room: '消防控制室' },
      ],
      ['attendance', 'site-a', 'face-1', { source: 'face', action: 'check_in', operatorId: 'op-2' }],
      [
        'attendance',
        'site-a',
        'pir-1',
        { source: 'presence', action: 'occupancy', count: 2, room: '消防控制室' },
      ],
      [
        'attendance',
        'site-a',
        'badge-fcr',
        { source: 'badge', action: 'check_out', operatorId: 'op-2', room: '消防控制室' },
      ],
      [
        'attendance',
        'site-a',
        'pir-1',
        { source: 'presence', action: 'occupancy', count: 0, room: '消防控制室' },
      ],
    ]);
    expect(await rejected()).toBe('');
  });

  it('never scripts a message the adapter would drop: what parses is queued, one envelope per step', async () => {
    const sim = await simulator();
    // tokens near the adapter's limits: ids of 64/65 characters, odd characters, counts around 100
    const id = fc.oneof(
      fc.constantFrom(
        'op-1',
        'a',
        'A.b_c-9',
        'x'.repeat(64),
        'x'.repeat(65),
        '-op',
        'op/1',
        '张三',
        '1e2',
        '+',
      ),
      fc.string({ minLength: 1, maxLength: 8 }).map((s) => s.replace(/[\s;]/g, '') || 'z'),
    );
    const count = fc.oneof(
      fc.integer({ min: 0, max: 120 }).map(String),
      fc.constantFrom('-1', '1.5', '0x2', '1e1', '100', '101', ' '),
    );
    const step = fc.oneof(
      fc.tuple(fc.constantFrom('in', 'out'), id).map(([v, op]) => `${v} badge-fcr ${op}`),
      count.map((n) => `occupancy pir-1 ${n}`),
    );
    let expected = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 4 }), async (steps) => {
        let parsed: ReturnType<typeof parseAttendanceScript>;
        try {
          parsed = parseAttendanceScript(steps.join('; '));
        } catch (err) {
          expect((err as Error).message).toMatch(/^script step \d+ '/);
          return;
        }
        await sim.run(parsed);
        expected += parsed.length;
        expect(queued()).toHaveLength(expected);
      }),
      { numRuns: 150 },
    );
    expect(expected).toBeGreaterThan(0);
    for (const e of queued()) expect(decodeEnvelope(e.payload).ok).toBe(true);
    expect(await rejected()).toBe('');
  });

  it('refuses to run before start', async () => {
    const sim = new AttendanceSimulator(`mqtt://127.0.0.1:${bus.port}`);
    await expect(sim.run([{ op: 'wait', ms: 0 }])).rejects.toThrow('simulator not started');
  });

  it('`carewatch simulate attendance` publishes its script to the bus and exits 0', async () => {
    requireBuild();
    const p = cli(
      [
        'simulate',
        'attendance',
        '--bus',
        `mqtt://127.0.0.1:${bus.port}`,
        '--script',
        'in badge-fcr op-1; occupancy pir-1 1',
      ],
      { CAREWATCH_LOG_LEVEL: 'warn' },
    );
    const code = await new Promise<number | null>((r) =>
      p.child.exitCode !== null ? r(p.child.exitCode) : p.child.on('exit', (c) => r(c)),
    );
    expect(code, p.output()).toBe(0);
    expect(received).toEqual([
      { topic: 'attendance/badge-fcr', payload: '{"action":"check_in","operatorId":"op-1"}' },
      { topic: 'attendance/pir-1', payload: '{"occupancy":1}' },
    ]);
    expect(queued()).toHaveLength(2);
  });
});

describe('attendance script', () => {
  it('parses the four actions, separated by semicolons or newlines', () => {
    expect(parseAttendanceScript(' in b-1 op-1;out b-1 op-1\n occupancy pir-1 100 ; wait 0;; ')).toEqual([
      { op: 'in', device: 'b-1', operatorId: 'op-1' },
      { op: 'out', device: 'b-1', operatorId: 'op-1' },
      { op: 'occupancy', device: 'pir-1', count: 100 },
      { op: 'wait', ms: 0 },
    ]);
  });

  it.each([
    ['wait', "script step 1 'wait': wait needs milliseconds"],
    ['in b-1 op-1; wait -5', "script step 2 'wait -5': wait needs milliseconds"],
    ['jump b-1 op-1', "script step 1 'jump b-1 op-1': unknown action 'jump'"],
    ['in b-1', "script step 1 'in b-1': needs a device and an operator id or a count"],
    ['in b-1 op-1 op-2', "script step 1 'in b-1 op-1 op-2': unexpected 'op-2'"],
    ['in b/1 op-1', "'b/1' is not a device id"],
    ['in b-1 op/1', "'op/1' is not an operator id"],
    [`in b-1 ${'x'.repeat(65)}`, 'is not an operator id'],
    ['occupancy pir-1 101', 'occupancy needs a whole number 0..100'],
    ['occupancy pir-1 1.5', 'occupancy needs a whole number 0..100'],
    ['occupancy pir-1 0x2', 'occupancy needs a whole number 0..100'],
    ['occupancy pir-1 -1', 'occupancy needs a whole number 0..100'],
  ])('rejects %s', (script, message) => {
    expect(() => parseAttendanceScript(script)).toThrow(message);
  });
});
