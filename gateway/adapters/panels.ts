import { logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import type { InventoryDevice } from '../../protocol/index.js';
import type { Dc09Config } from '../config.js';
import type { Outbox } from '../outbox.js';
import { Dc09Receiver } from './dc09/receiver.js';
import type { PanelMessage } from './dc09/receiver-types.js';

const log = logger('gateway:panels');

/** The device id an alarm panel account gets in events and the inventory. */
export const panelDeviceId = (account: string) => `panel-${account}`;

/**
 * Alarm panels dialling SIA DC-09 (Contact ID or SIA-DCS) into the gateway.
 * Every decoded event is written to the outbox inside the receiver's sink,
 * so the panel's ACK means "on disk"; supervision changes become
 * `panel_status` events.
 */
export class PanelAdapter {
  private receiver: Dc09Receiver | undefined;

  constructor(
    private readonly deps: {
      config: Dc09Config;
      outbox: Outbox;
      metrics: Metrics;
    },
  ) {}

  get ports(): { tcp: number | null; udp: number | null } {
    return { tcp: this.receiver?.tcpPort ?? null, udp: this.receiver?.udpPort ?? null };
  }

  inventory(): InventoryDevice[] {
    return this.deps.config.accounts.map((a) => ({
      deviceId: panelDeviceId(a.account),
      type: 'alarm_panel',
      ...(a.label ? { label: a.label } : {}),
    }));
  }

  async start(): Promise<void> {
    const { config, outbox, metrics } = this.deps;
    this.receiver = new Dc09Receiver({
      host: config.host,
      tcpPort: config.tcpPort,
      udpPort: config.udpPort,
      accounts: config.accounts.map(({ label: _l, ...a }) => a),
      supervisionTimeoutS: config.supervisionTimeoutS,
      sink: (msg) => this.store(msg),
      onSupervision: (account, state) => {
        void outbox
          .add({
            kind: 'panel_status',
            deviceId: panelDeviceId(account),
            data: {
              state,
              reason: state === 'offline' ? 'no heartbeat or test within the supervision time' : 'reporting',
            },
          })
          .catch((err) => log.error({ err, account }, 'panel status not stored'));
      },
    });
    await this.receiver.start();
    metrics.gauge('carewatch_gateway_dc09_up', 'DC-09 receiver listening').set(1);
    log.info({ ports: this.ports }, 'DC-09 receiver listening');
  }

  private async store(msg: PanelMessage): Promise<void> {
    const protocol = msg.format === 'ADM-CID' ? 'dc09-cid' : 'dc09-sia';
    await Promise.all(
      msg.events.map((ev) =>
        this.deps.outbox.add({
          kind: 'panel_alarm',
          deviceId: panelDeviceId(msg.account),
          ts: new Date(msg.panelTime ?? msg.receivedAt),
          data: {
            protocol,
            category: ev.category,
            qualifier: ev.qualifier,
            code: ev.code,
            account: msg.account,
            ...(ev.zone !== null ? { zone: String(ev.zone) } : {}),
            ...(ev.partition !== null ? { partition: String(ev.partition) } : {}),
            ...(ev.description ? { text: ev.description.slice(0, 256) } : {}),
          },
        }),
      ),
    );
  }

  async stop(): Promise<void> {
    await this.receiver?.stop();
  }
}
