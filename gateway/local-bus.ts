import { type AddressInfo, createServer, type Server } from 'node:net';
import { Aedes, type PublishPacket } from 'aedes';
import { logger } from '../lib/logger.js';

const log = logger('gateway:local-bus');

/** A device-side handler: resolves once whatever the message means is durable. */
export type LocalHandler = (topic: string, payload: Buffer) => Promise<void>;

/**
 * The site's own MQTT bus for on-site devices (zigbee2mqtt-style buttons,
 * attendance sensors). Handlers run inside `authorizePublish`, before aedes
 * answers a QoS 1 PUBLISH, so a device's PUBACK means "in the outbox".
 * A handler that fails makes the broker drop the connection without PUBACK:
 * the device (or its bridge) publishes again.
 */
export class LocalBus {
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  port = 0;

  constructor(
    private readonly deps: {
      host: string;
      port: number;
      handler: LocalHandler;
    },
  ) {}

  async start(): Promise<void> {
    const handler = this.deps.handler;
    this.aedes = await Aedes.createBroker({
      id: 'carewatch-gateway-local',
      authorizePublish: (client, packet: PublishPacket, cb) => {
        if (!client) return cb(null);
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        handler(packet.topic, payload).then(
          () => cb(null),
          (err: Error) => {
            log.error({ err, topic: packet.topic }, 'local message not stored; device must resend');
            cb(err);
          },
        );
      },
    });
    const server = createServer(this.aedes.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.deps.port, this.deps.host, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    log.info({ host: this.deps.host, port: this.port }, 'local device bus listening');
  }

  async stop(): Promise<void> {
    this.server?.close();
    await new Promise<void>((r) => (this.aedes ? this.aedes.close(() => r()) : r()));
  }
}
