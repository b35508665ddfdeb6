import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { fdCount, rssBytes, sampleProc, scrape } from '../../bench/soak-procs.js';
import { Metrics } from '../../lib/metrics.js';

describe('soak process sampler', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  async function serveMetrics(): Promise<string> {
    const metrics = new Metrics({ defaults: true });
    server = createServer((_req, res) => {
      void metrics.text().then((t) => res.writeHead(200, { 'content-type': 'text/plain' }).end(t));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
  }

  it('reads RSS and open descriptors of a live process from /proc', () => {
    const rss = rssBytes(process.pid);
    expect(rss).toBeGreaterThan(1024 * 1024);
    // the real RSS, as the kernel counts it, is near what Node reports
    expect(Math.abs(rss! - process.memoryUsage().rss)).toBeLessThan(64 * 1024 * 1024);
    expect(fdCount(process.pid)).toBeGreaterThan(2);
    expect(rssBytes(2 ** 22 + 7)).toBeNull();
    expect(fdCount(2 ** 22 + 7)).toBeNull();
  });

  it('scrapes heap and event-loop lag from a prom-client endpoint', async () => {
    const url = await serveMetrics();
    await new Promise((r) => setTimeout(r, 50));
    const s = await sampleProc(process.pid, url);
    expect(s.heapUsedBytes).toBeGreaterThan(1024 * 1024);
    expect(s.loopLagP99Ms).not.toBeNull();
    expect(s.loopLagP99Ms!).toBeGreaterThanOrEqual(0);
    expect(s.rssBytes).toBeGreaterThan(s.heapUsedBytes!);
  });

  it('gives nulls when the endpoint does not answer', async () => {
    const url = await serveMetrics();
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    expect(await scrape(url)).toEqual({ heapUsedBytes: null, loopLagP99Ms: null });
  });
});
