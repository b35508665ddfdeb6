import mqtt, { type MqttClient } from 'mqtt';

export type AttendanceStep =
  | { op: 'in' | 'out'; device: string; operatorId: string }
  | { op: 'occupancy'; device: string; count: number }
  | { op: 'wait'; ms: number };

/**
 * Parses `in badge-1 op-1; out badge-1 op-1; occupancy pir-1 2; wait 500`.
 * Throws with the step number and the problem.
 */
export function parseAttendanceScript(text: string): AttendanceStep[] {
  return text
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part, i) => {
      const [verb, a, b] = part.split(/\s+/);
      const bad = (why: string) => new Error(`script step ${i + 1} '${part}': ${why}`);
      if (verb === 'wait') {
        const ms = Number(a);
        if (!Number.isFinite(ms) || ms < 0) throw bad('wait needs milliseconds');
        return { op: 'wait', ms };
      }
      if (!a || !b) throw bad('needs a device and an operator id or a count');
      if (verb === 'in' || verb === 'out') return { op: verb, device: a, operatorId: b };
      if (verb === 'occupancy') {
        const count = Number(b);
        if (!Number.isInteger(count) || count < 0) throw bad('occupancy needs a whole number');
        return { op: 'occupancy', device: a, count };
      }
      throw bad(`unknown action '${verb}' (use in, out, occupancy or wait)`);
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
