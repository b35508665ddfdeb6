import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.js';

/** Liveness, readiness and Prometheus metrics. */
export async function opsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const ready = deps.ready();
    void reply.status(ready ? 200 : 503);
    return { ready };
  });
  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.text();
  });
}
