import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The request target as sent (query still encoded). */
  rawUrl: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Raw body, as received. */
  body: string;
  at: number;
}

export type Responder = (req: RecordedRequest, index: number) => { status: number; body: unknown };

export interface FakeHttp {
  url: string;
  requests: RecordedRequest[];
  respond: Responder;
  close(): Promise<void>;
}

/** A recording HTTP server on 127.0.0.1; `respond` decides each answer (default 200 errcode 0). */
export async function startFakeHttp(
  respond: Responder = () => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } }),
): Promise<FakeHttp> {
  const fake = { requests: [] as RecordedRequest[], respond } as FakeHttp;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const rec: RecordedRequest = {
        method: req.method ?? '',
        path: u.pathname,
        rawUrl: req.url ?? '',
        query: u.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      const index = fake.requests.length;
      fake.requests.push(rec);
      const r = fake.respond(rec, index);
      const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

/** A port on 127.0.0.1 where nothing listens (connection refused). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
