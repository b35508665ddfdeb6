import type { FastifyInstance } from 'fastify';
import type { SiteCoverage } from '../../central/coverage.js';
import type { AppDeps } from '../app.js';
import { siteFilter } from '../scope.js';

/** One CSV row per (site, required zone): what an inspector takes away. */
export function coverageCsv(sites: SiteCoverage[]): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const rows = [['site', 'site_name', 'zone', 'ok', 'code', 'reason', 'cameras', 'best_days_kept']];
  for (const s of sites) {
    for (const z of s.zones) {
      rows.push([
        s.siteId,
        s.siteName,
        z.zone,
        z.ok ? 'yes' : 'no',
        z.code,
        z.reason,
        z.cameras.map((c) => `${c.deviceId}:${c.code}`).join(' '),
        String(Math.max(0, ...z.cameras.map((c) => c.daysKept))),
      ]);
    }
  }
  return `\uFEFF${rows.map((r) => r.map(q).join(',')).join('\r\n')}\r\n`;
}

/** Camera coverage of the required zones per institution, in the user's scope. */
export async function coverageRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/api/coverage', async (req) => {
    const { scope } = await deps.sessions.require(req);
    return { sites: await deps.coverage.all(siteFilter(scope)) };
  });
  app.get('/api/coverage.csv', async (req, reply) => {
    const { scope } = await deps.sessions.require(req);
    void reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="carewatch-coverage.csv"');
    return coverageCsv(await deps.coverage.all(siteFilter(scope)));
  });
}
