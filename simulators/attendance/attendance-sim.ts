import mqtt, { type MqttClient } from 'mqtt';
import { MAX_OCCUPANCY } from '../../gateway/adapters/attendance.js';
import { ID_REGEX } from '../../protocol/index.js';

export type AttendanceStep =
  | { op: 'in' | 'out'; device: string; operatorId: string }
  | { op: 'occupancy'; device: string; count: number }
  | { op: 'wait'; ms: number };

/**
 * Parses `in badge-1 op-1; out badge-1 op-1; occupancy pir-1 2; wait 500`.
 * Accepts only what the gateway's attendance adapter takes (device and operator
 * ids as in the protocol, occupancy 0..MAX_OCCUPANCY), so every message a
 * script produces reaches the outbox. Throws with the step number and the problem.
 */
export function parseAttendanceScript(text: string): AttendanceStep[] {
  return text
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part, i) => {
      const [verb, a, b, ...rest] = part.split(/\s+/);
      const bad = (why: string) => new Error(`script step ${i + 1} '${part}': ${why}`);
      if (verb === 'wait') {
        const ms = Number(a);
        if (!Number.isFinite(ms) || ms < 0 || b !== undefined) throw bad('wait needs milliseconds');
        return { op: 'wait', ms };
      }
      if (verb !== 'in' && verb !== 'out' && verb !== 'occupancy') {
        throw bad(`unknown action '${verb}' (use in, out, occupancy or wait)`);
      }
      if (!a || !b) throw bad('needs a device and an operator id or a count');
      if (rest.length > 0) throw bad(`unexpected '${rest.join(' ')}'`);
      if (!ID_REGEX.test(a)) throw bad(`'${a}' is not a device id (letters, digits, _ . -, at most 64)`);
      if (verb === 'occupancy') {
        const count = /^\d+$/.test(b) ? Number(b) : Number.NaN;
        if (!(count <= MAX_OCCUPANCY)) throw bad(`occupancy needs a whole number 0..${MAX_OCCUPANCY}`);
        return { op: 'occupancy', device: a, count };
      }
      if (!ID_REGEX.test(b)) throw bad(`'${b}' is not an operator id (letters, digits, _ . -, at most 64)`);
      return { op: verb, device: a, operatorId: b };
    });
}

/** Badge/face readers and presence sensors of a fire-control room, on a gateway's local bus. */
export class AttendanceSimulator {
  private client: MqttClient | undefined;

  constructor(private readonly url: string) {}

  async start(): Promise<void> {
    this.client = await mqtt.connectAsync(this.url, {
      clientId: `attendance-sim-${process.pid}`,
      reconnectPeriod: 500,
    });
  }

  async run(steps: AttendanceStep[]): Promise<void> {
    const c = this.client;
    if (!c) throw new Error('simulator not started');
    for (const s of steps) {
      if (s.op === 'wait') await new Promise((r) => setTimeout(r, s.ms));
      else if (s.op === 'occupancy')
        await c.publishAsync(`attendance/${s.device}`, JSON.stringify({ occupancy: s.count }), { qos: 1 });
      else {
        const action = s.op === 'in' ? 'check_in' : 'check_out';
        await c.publishAsync(`attendance/${s.device}`, JSON.stringify({ action, operatorId: s.operatorId }), {
          qos: 1,
        });
      }
    }
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
  }
}
