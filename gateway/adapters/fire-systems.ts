import { logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import type { InventoryDevice, PanelAlarmData } from '../../protocol/index.js';
import type { CommandRouter } from '../commands.js';
import type { Gb26875GatewayConfig } from '../config.js';
import type { Outbox } from '../outbox.js';
import { type Gb26875Event, Gb26875Receiver } from './gb26875/index.js';

const log = logger('gateway:fire-systems');

export const fireDeviceId = (address: number) => `fire-${address}`;

const CATEGORY: Partial<Record<Gb26875Event['kind'], PanelAlarmData['category']>> = {
  fire: 'fire',
  fault: 'fault',
  bus_fault: 'fault',
  link_fault: 'fault',
  shield: 'shield',
  supervise: 'supervise',
  start: 'start',
  feedback: 'feedback',
  power_fault: 'power_fault',
  reset: 'reset',
};

/**
 * Fire alarm control panels reporting through user information transmission
 * devices (GB/T 26875.3). State changes are written to the outbox inside the
 * receiver's sink, before the confirm frame; the central's `post_check`
 * command is sent to every connected device as a type-91 post check and its
 * answer comes back as a `post_check` event.
 */
export class FireSystemAdapter {
  private receiver: Gb26875Receiver | undefined;

  constructor(
    private readonly deps: {
      config: Gb26875GatewayConfig;
      outbox: Outbox;
      metrics: Metrics;
      commands: CommandRouter;
    },
  ) {}

  inventory(): InventoryDevice[] {
    return this.deps.config.devices.map((d) => ({
      deviceId: fireDeviceId(d.address),
      type: 'fire_transmission_device',
      ...(d.label ? { label: d.label } : {}),
    }));
  }

  get port(): number | undefined {
    return this.receiver?.port;
  }

  async start(): Promise<void> {
    const { config, outbox } = this.deps;
    this.receiver = new Gb26875Receiver({
      host: config.host,
      port: config.port,
      ...(config.checksumSpan ? { checksumSpan: config.checksumSpan } : {}),
      sink: async (events) => {
        await Promise.all(events.map((e) => this.store(e)));
      },
    });
    await this.receiver.start();
    this.deps.commands.register('post_check', async (args) => {
      const checkId = typeof args.checkId === 'string' ? args.checkId.slice(0, 64) : '';
      const timeoutS = typeof args.deadlineS === 'number' && args.deadlineS > 0 ? args.deadlineS : 600;
      const devices = (this.receiver?.stats().devices ?? []).filter((d) => d.connected);
      for (const d of devices) {
        void this.receiver!.sendPostCheck(d.device, { timeoutS }).then(async (r) => {
          if (r.outcome !== 'answered') return;
          await outbox.add({
            kind: 'post_check',
            deviceId: fireDeviceId(d.device),
            data: {
              checkId,
              outcome: 'answered',
              via: 'gb26875',
              ...(r.operator !== undefined ? { answeredBy: `operator:${r.operator}` } : {}),
              ...(r.latencyMs !== undefined ? { latencyS: r.latencyMs / 1000 } : {}),
            },
          });
        });
      }
      return { devices: devices.length };
    });
    log.info({ port: this.port }, 'GB/T 26875.3 receiver listening');
  }

  private async store(e: Gb26875Event): Promise<void> {
    const category = CATEGORY[e.kind];
    if (!category) return; // operations, versions, clock: kept by the device, not alarms
    const zone = e.part
      ? `${e.system?.address ?? 0}-${e.part.address}`
      : e.system
        ? String(e.system.address)
        : undefined;
    await this.deps.outbox.add({
      kind: 'panel_alarm',
      deviceId: fireDeviceId(e.device),
      ts: new Date(e.at),
      data: {
        protocol: 'gb26875',
        category,
        qualifier: e.active ? 'new' : 'restore',
        code: `${e.dataType}:${e.kind}${e.detail ? `:${e.detail}` : ''}`.slice(0, 32),
        ...(zone ? { zone } : {}),
        ...(e.text || e.part?.name ? { text: (e.text ?? e.part?.name ?? '').slice(0, 256) } : {}),
      },
    });
  }

  async stop(): Promise<void> {
    await this.receiver?.stop();
  }
}
