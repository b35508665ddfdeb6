import { logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import type { EmergencyCallAction, InventoryDevice } from '../../protocol/index.js';
import type { ButtonDevice, GatewayConfig } from '../config.js';
import type { Outbox } from '../outbox.js';
import { Drops } from './drops.js';

const log = logger('gateway:buttons');

const AVAILABILITY_SUFFIX = '/availability';

/**
 * Emergency call buttons on the local bus, zigbee2mqtt style:
 *   `zigbee2mqtt/{name}`               {"action":"single","battery":87,...}
 *   `zigbee2mqtt/{name}/availability`  {"state":"online"} or "offline"
 * Actions map to `emergency_call` events: pressed, cancelled (at the
 * bedside), battery_low (once per crossing of the threshold), unavailable
 * and available. Anything else is counted and dropped with a reason.
 */
export class ButtonAdapter {
  private readonly byTopic = new Map<string, ButtonDevice>();
  private readonly batteryLow = new Map<string, boolean>();
  private readonly available = new Map<string, boolean>();
  private readonly drops: Drops;

  constructor(
    private readonly deps: {
      config: GatewayConfig['buttons'];
      outbox: Outbox;
      metrics: Metrics;
    },
  ) {
    for (const d of deps.config.devices) this.byTopic.set(d.topic ?? `zigbee2mqtt/${d.deviceId}`, d);
    this.drops = new Drops(deps.metrics, log);
  }

  inventory(): InventoryDevice[] {
    return this.deps.config.devices.map((d) => ({
      deviceId: d.deviceId,
      type: 'call_button',
      ...(d.room ? { room: d.room } : {}),
      ...(d.label ? { label: d.label } : {}),
    }));
  }

  /** True when the topic belongs to this adapter's namespace. */
  claims(topic: string): boolean {
    return (
      this.byTopic.has(topic) ||
      this.byTopic.has(topic.slice(0, -AVAILABILITY_SUFFIX.length)) ||
      topic.startsWith('zigbee2mqtt/')
    );
  }

  async handle(topic: string, payload: Buffer): Promise<void> {
    if (topic.endsWith(AVAILABILITY_SUFFIX)) {
      const dev = this.byTopic.get(topic.slice(0, -AVAILABILITY_SUFFIX.length));
      if (!dev) return this.drop('DEVICE_UNKNOWN', topic, 'no call button is configured for this topic');
      return this.onAvailability(dev, payload, topic);
    }
    if (topic.startsWith('zigbee2mqtt/bridge/')) return; // bridge housekeeping, not a device
    const dev = this.byTopic.get(topic);
    if (!dev) return this.drop('DEVICE_UNKNOWN', topic, 'no call button is configured for this topic');
    let msg: unknown;
    try {
      msg = JSON.parse(payload.toString());
    } catch {
      return this.drop('PAYLOAD_NOT_JSON', topic, 'button payload is not JSON');
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return this.drop('PAYLOAD_INVALID', topic, 'button payload must be a JSON object');
    }
    const m = msg as { action?: unknown; battery?: unknown };
    const jobs: Array<Promise<unknown>> = [];
    if (m.battery !== undefined) {
      if (typeof m.battery !== 'number' || !Number.isFinite(m.battery) || m.battery < 0 || m.battery > 100) {
        this.drop('BATTERY_INVALID', topic, '/battery must be a number 0..100');
      } else {
        const battery = Math.round(m.battery);
        const low = battery <= this.deps.config.batteryLowPercent;
        const was = this.batteryLow.get(dev.deviceId) ?? false;
        this.batteryLow.set(dev.deviceId, low);
        if (low && !was) jobs.push(this.emit(dev, 'battery_low', undefined, battery));
      }
    }
    if (m.action !== undefined && m.action !== null && m.action !== '') {
      if (typeof m.action !== 'string') {
        this.drop('ACTION_INVALID', topic, '/action must be a string');
      } else {
        const action = this.mapAction(m.action);
        if (action)
          jobs.push(
            this.emit(
              dev,
              action,
              m.action,
              typeof m.battery === 'number' ? Math.round(m.battery) : undefined,
            ),
          );
        else
          this.drop(
            'ACTION_UNKNOWN',
            topic,
            `/action '${m.action.slice(0, 32)}' is not a call or cancel action`,
          );
      }
    }
    await Promise.all(jobs);
  }

  private mapAction(raw: string): EmergencyCallAction | null {
    if (this.deps.config.pressedActions.includes(raw)) return 'pressed';
    if (this.deps.config.cancelledActions.includes(raw)) return 'cancelled';
    return null;
  }

  private async onAvailability(dev: ButtonDevice, payload: Buffer, topic: string): Promise<void> {
    const text = payload.toString().trim();
    let state: string | undefined;
    if (text === 'online' || text === 'offline') state = text;
    else {
      try {
        const v = JSON.parse(text) as { state?: unknown };
        if (v && typeof v.state === 'string') state = v.state;
      } catch {
        // fall through to the drop below
      }
    }
    if (state !== 'online' && state !== 'offline') {
      return this.drop('AVAILABILITY_INVALID', topic, "availability must be 'online' or 'offline'");
    }
    const up = state === 'online';
    const was = this.available.get(dev.deviceId);
    this.available.set(dev.deviceId, up);
    if (was === up || (was === undefined && up)) return; // only changes are events; first 'online' is the normal state
    await this.emit(dev, up ? 'available' : 'unavailable');
  }

  private async emit(
    dev: ButtonDevice,
    action: EmergencyCallAction,
    raw?: string,
    battery?: number,
  ): Promise<void> {
    await this.deps.outbox.add({
      kind: 'emergency_call',
      deviceId: dev.deviceId,
      data: {
        action,
        ...(dev.room ? { room: dev.room } : {}),
        ...(dev.label ? { label: dev.label } : {}),
        ...(battery !== undefined ? { battery } : {}),
        ...(raw ? { raw: raw.slice(0, 64) } : {}),
      },
    });
    this.deps.metrics
      .counter('carewatch_gateway_button_events_total', 'button events queued', ['action'])
      .inc({ action });
  }

  private drop(code: string, topic: string, message: string): void {
    this.drops.drop(code, topic, message);
  }
}
