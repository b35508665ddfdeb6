import { existsSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import PDFDocument from 'pdfkit';
import type { StoredEvent } from '../../storage/types.js';
import type { AppDeps } from '../app.js';
import type { Scope } from '../scope.js';
import { canSeeSite, kindFilter, siteFilter } from '../scope.js';

const Query = Type.Object(
  {
    siteId: Type.Optional(Type.String({ maxLength: 64 })),
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    since: Type.Optional(Type.String({ format: 'date' })),
    until: Type.Optional(Type.String({ format: 'date' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
type Query = Static<typeof Query>;

/** Fonts that can draw Chinese text, in order of preference (Debian's fonts-noto-cjk, fonts-wqy-zenhei). */
const CJK_FONTS: Array<[string, string | undefined]> = [
  ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'],
  ['/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', 'WenQuanYiZenHei'],
];

async function query(deps: AppDeps, scope: Scope, q: Query): Promise<StoredEvent[]> {
  const siteIds = q.siteId ? (canSeeSite(scope, q.siteId) ? [q.siteId] : []) : siteFilter(scope);
  return deps.store.events.list({
    siteIds,
    kinds: kindFilter(scope),
    kind: q.kind,
    since: q.since ? Date.parse(`${q.since}T00:00:00Z`) : undefined,
    until: q.until ? Date.parse(`${q.until}T00:00:00Z`) + 24 * 3600_000 : undefined,
    limit: q.limit ?? 100,
  });
}

function summary(e: StoredEvent): string {
  return Object.entries(e.envelope.data as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** The event archive: JSON for the app, PDF for inspections. Both in the user's scope. */
export async function archiveRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: Query }>('/api/events', { schema: { querystring: Query } }, async (req) => {
    const { scope } = await deps.sessions.require(req);
    const events = await query(deps, scope, req.query);
    return {
      events: events.map((e) => ({ ...e.envelope, receivedAt: e.receivedAt, gatewayId: e.gatewayId })),
    };
  });

  app.get<{ Querystring: Query }>(
    '/api/events.pdf',
    { schema: { querystring: Query } },
    async (req, reply) => {
      const { user, scope } = await deps.sessions.require(req);
      const events = await query(deps, scope, req.query);
      const doc = new PDFDocument({
        size: 'A4',
        layout: 'landscape',
        margin: 36,
        info: { Title: 'carewatch archive' },
      });
      const font = CJK_FONTS.find(([p]) => existsSync(p));
      if (font) doc.registerFont('cjk', font[0], font[1]);
      doc.font(font ? 'cjk' : 'Helvetica');
      doc.fontSize(14).text('carewatch 事件档案 Event archive');
      doc
        .fontSize(9)
        .text(
          `导出 exported ${new Date().toISOString()} · ${user.username} · ${req.query.siteId ?? '*'} · ${req.query.kind ?? '*'} · ${events.length} rows`,
        );
      doc.moveDown();
      const cols = [130, 90, 90, 100, 360];
      const row = (cells: string[]) => {
        const y = doc.y;
        let x = doc.page.margins.left;
        let height = 0;
        cells.forEach((c, i) => {
          height = Math.max(height, doc.heightOfString(c, { width: (cols[i] ?? 100) - 6 }));
          doc.text(c, x, y, { width: (cols[i] ?? 100) - 6 });
          x += cols[i] ?? 100;
        });
        doc.x = doc.page.margins.left;
        doc.y = y + height + 4;
        if (doc.y > doc.page.height - doc.page.margins.bottom - 20) doc.addPage();
      };
      doc.fontSize(8);
      row(['时间 time', '机构 site', '设备 device', '类型 kind', '内容 data']);
      for (const e of events) row([e.envelope.ts, e.siteId, e.deviceId, e.kind, summary(e)]);
      doc.end();
      const chunks: Buffer[] = [];
      for await (const c of doc) chunks.push(c as Buffer);
      void reply
        .type('application/pdf')
        .header('content-disposition', 'attachment; filename="carewatch-archive.pdf"');
      return Buffer.concat(chunks);
    },
  );
}
