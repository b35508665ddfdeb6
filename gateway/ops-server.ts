import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from '../lib/metrics.js';

/**
 * The gateway's operations endpoint: `/metrics` (Prometheus), `/healthz`
 * (the process answers) and `/readyz` (200 only while the uplink is up).
 */
export class OpsServer {
  private server: Server | undefined;
  port = 0;

  constructor(
    private readonly deps: { host: string; port: number; metrics: Metrics; ready: () => boolean },
  ) {}

  async start(): Promise<void> {
    const { metrics, ready } = this.deps;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res
          .writeHead(405, { 'content-type': 'application/json' })
          .end('{"error":{"code":"METHOD","message":"GET only"}}');
        return;
      }
      if (path === '/metrics') {
        void metrics
          .text()
          .then((t) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(t));
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } else if (path === '/readyz') {
        const ok = ready();
        res
          .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ready: ok }));
      } else {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"error":{"code":"NOT_FOUND","message":"no such path"}}');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.deps.port, this.deps.host, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
