import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../lib/paths.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Serves the built web app (dist/web): `/` and `/assets/*`, nothing outside that folder. */
export async function webApp(app: FastifyInstance): Promise<void> {
  const root = join(packageRoot(), 'dist', 'web');
  const send = async (rel: string, reply: import('fastify').FastifyReply) => {
    const path = normalize(join(root, rel));
    if (!path.startsWith(`${root}/`))
      return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no such file' } });
    try {
      const body = await readFile(path);
      void reply.type(TYPES[extname(path)] ?? 'application/octet-stream');
      if (rel.startsWith('assets/'))
        void reply.header('cache-control', 'public, max-age=31536000, immutable');
      return reply.send(body);
    } catch {
      return reply.status(404).send({
        error: {
          code: 'NOT_FOUND',
          message: rel === 'index.html' ? 'web app not built: run npm run build' : 'no such file',
        },
      });
    }
  };
  app.get('/', (_req, reply) => send('index.html', reply));
  app.get<{ Params: { '*': string } }>('/assets/*', (req, reply) => send(`assets/${req.params['*']}`, reply));
}
