import mqtt, { type MqttClient } from 'mqtt';
import { logger } from '../../lib/logger.js';

const log = logger('sim:buttons');

export type SimAction = 'press' | 'cancel' | 'battery' | 'offline' | 'online' | 'garbage';

/**
 * Simulated zigbee2mqtt-style emergency buttons on a gateway's local bus:
 * `zigbee2mqtt/{name}` with `{"action": ..., "battery": ..., "linkquality": ...}`
 * and `zigbee2mqtt/{name}/availability` with `{"state": "online"|"offline"}`.
 * Publishes at QoS 1 and resolves each action on the bus's PUBACK.
 */
export class ButtonSimulator {
  private client: MqttClient | undefined;
  sent = 0;

  constructor(
    private readonly opts: {
      url: string;
      prefix?: string;
      pressAction?: string;
      cancelAction?: string;
    },
  ) {}

  async start(): Promise<void> {
    this.client = await mqtt.connectAsync(this.opts.url, {
      clientId: `button-sim-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 500,
      clean: true,
    });
  }

  private topic(device: string): string {
    return `${this.opts.prefix ?? 'zigbee2mqtt'}/${device}`;
  }

  async act(device: string, action: SimAction, value?: number): Promise<void> {
    const c = this.client;
    if (!c) throw new Error('simulator not started');
    let topic = this.topic(device);
    let payload: string;
    switch (action) {
      case 'press':
        payload = JSON.stringify({
          action: this.opts.pressAction ?? 'single',
          battery: value ?? 90,
          linkquality: 120,
        });
        break;
      case 'cancel':
        payload = JSON.stringify({
          action: this.opts.cancelAction ?? 'double',
          battery: value ?? 90,
          linkquality: 120,
        });
        break;
      case 'battery':
        payload = JSON.stringify({ battery: value ?? 10, linkquality: 110 });
        break;
      case 'offline':
      case 'online':
        topic = `${topic}/availability`;
        payload = JSON.stringify({ state: action });
        break;
      case 'garbage':
        payload = '{"action": [not json';
        break;
    }
    await c.publishAsync(topic, payload, { qos: 1 });
    this.sent++;
    log.debug({ device, action }, 'button action');
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
  }
}

export interface ScriptStep {
  action: SimAction | 'wait';
  device?: string;
  value?: number;
}

/**
 * Parses a script such as `press btn-1; wait 200; cancel btn-1; battery btn-2 12`.
 * Throws with the position and the problem on a bad step.
 */
export function parseScript(text: string): ScriptStep[] {
  const steps: ScriptStep[] = [];
  const parts = text
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
  parts.forEach((part, i) => {
    const [verb, a, b] = part.split(/\s+/);
    if (verb === 'wait') {
      const ms = Number(a);
      if (!Number.isFinite(ms) || ms < 0)
        throw new Error(`script step ${i + 1} '${part}': wait needs milliseconds`);
      steps.push({ action: 'wait', value: ms });
      return;
    }
    const actions: SimAction[] = ['press', 'cancel', 'battery', 'offline', 'online', 'garbage'];
    if (!actions.includes(verb as SimAction)) {
      throw new Error(
        `script step ${i + 1} '${part}': unknown action '${verb}' (use ${actions.join(', ')} or wait)`,
      );
    }
    if (!a) throw new Error(`script step ${i + 1} '${part}': missing device name`);
    const value = b === undefined ? undefined : Number(b);
    if (value !== undefined && !Number.isFinite(value))
      throw new Error(`script step ${i + 1} '${part}': bad value '${b}'`);
    steps.push({ action: verb as SimAction, device: a, ...(value !== undefined ? { value } : {}) });
  });
  return steps;
}

export async function runScript(sim: ButtonSimulator, steps: ScriptStep[]): Promise<void> {
  for (const s of steps) {
    if (s.action === 'wait') await new Promise((r) => setTimeout(r, s.value));
    else await sim.act(s.device!, s.action, s.value);
  }
}
