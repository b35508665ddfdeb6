import { logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import { ID_REGEX, type InventoryDevice } from '../../protocol/index.js';
import type { AttendanceDevice } from '../config.js';
import type { Outbox } from '../outbox.js';
import { Drops } from './drops.js';

const log = logger('gateway:attendance');

/** The largest occupancy a presence sensor may report (the `attendance` event schema's bound). */
export const MAX_OCCUPANCY = 100;

/**
 * Fire-control-room attendance on the local bus, topic `attendance/{deviceId}`
 * (or the configured one):
 *   badge / face readers: {"action":"check_in"|"check_out","operatorId":"op-1"}
 *   presence sensors:     {"occupancy": 2}
 */
export class AttendanceAdapter {
  private readonly byTopic = new Map<string, AttendanceDevice>();
  private readonly drops: Drops;

  constructor(
    private readonly deps: {
      devices: AttendanceDevice[];
      outbox: Outbox;
      metrics: Metrics;
    },
  ) {
    for (const d of deps.devices) this.byTopic.set(d.topic ?? `attendance/${d.deviceId}`, d);
    this.drops = new Drops(deps.metrics, log);
  }

  claims(topic: string): boolean {
    return this.byTopic.has(topic) || topic.startsWith('attendance/');
  }

  inventory(): InventoryDevice[] {
    return this.deps.devices.map((d) => ({
      deviceId: d.deviceId,
      type: d.source === 'presence' ? 'presence_sensor' : 'attendance_reader',
      ...(d.room ? { room: d.room } : {}),
    }));
  }

  async handle(topic: string, payload: Buffer): Promise<void> {
    const dev = this.byTopic.get(topic);
    if (!dev) return this.drop('DEVICE_UNKNOWN', topic, 'no attendance device is configured for this topic');
    let m: { action?: unknown; operatorId?: unknown; occupancy?: unknown };
    try {
      m = JSON.parse(payload.toString());
    } catch {
      return this.drop('PAYLOAD_NOT_JSON', topic, 'attendance payload is not JSON');
    }
    if (typeof m !== 'object' || m === null)
      return this.drop('PAYLOAD_INVALID', topic, 'payload must be an object');
    const room = dev.room ? { room: dev.room } : {};
    if (dev.source === 'presence') {
      const n = m.occupancy;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_OCCUPANCY) {
        return this.drop('OCCUPANCY_INVALID', topic, `/occupancy must be an integer 0..${MAX_OCCUPANCY}`);
      }
      await this.deps.outbox.add({
        kind: 'attendance',
        deviceId: dev.deviceId,
        data: { source: 'presence', action: 'occupancy', count: n, ...room },
      });
      return;
    }
    if (m.action !== 'check_in' && m.action !== 'check_out') {
      return this.drop('ACTION_INVALID', topic, "/action must be 'check_in' or 'check_out'");
    }
    if (typeof m.operatorId !== 'string' || !ID_REGEX.test(m.operatorId)) {
      return this.drop('OPERATOR_INVALID', topic, '/operatorId must be an operator id');
    }
    await this.deps.outbox.add({
      kind: 'attendance',
      deviceId: dev.deviceId,
      data: { source: dev.source, action: m.action, operatorId: m.operatorId, ...room },
    });
  }

  private drop(code: string, topic: string, message: string): void {
    this.drops.drop(code, topic, message);
  }
}
