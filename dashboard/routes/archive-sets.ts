import { existsSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import PDFDocument from 'pdfkit';
import type { StoredEvent } from '../../storage/types.js';
import type { AppDeps } from '../app.js';
import { canSeeSite, kindFilter, type Scope, siteFilter, typeFilter } from '../scope.js';

/** What an inspection takes away: events, alarms with their lifecycle, duty records, shift handovers. */
export const ARCHIVE_SETS = ['events', 'alerts', 'duty', 'handovers'] as const;
export type ArchiveSet = (typeof ARCHIVE_SETS)[number];

export const ArchiveQuery = Type.Object(
  {
    siteId: Type.Optional(Type.String({ maxLength: 64 })),
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    since: Type.Optional(Type.String({ format: 'date' })),
    until: Type.Optional(Type.String({ format: 'date' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type ArchiveQuery = Static<typeof ArchiveQuery>;

/** One archive as rows of text, the same for the page, the CSV and the PDF. */
export interface ArchiveTable {
  title: string;
  columns: string[];
  /** Column widths in PDF points (landscape A4 holds about 770). */
  widths: number[];
  rows: string[][];
}

const DAY = 24 * 3600_000;
const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : '');

interface Window {
  siteIds: string[] | undefined;
  since: number | undefined;
  until: number | undefined;
  limit: number;
}

function windowOf(scope: Scope, q: ArchiveQuery): Window {
  return {
    siteIds: q.siteId ? (canSeeSite(scope, q.siteId) ? [q.siteId] : []) : siteFilter(scope),
    since: q.since ? Date.parse(`${q.since}T00:00:00Z`) : undefined,
    until: q.until ? Date.parse(`${q.until}T00:00:00Z`) + DAY : undefined,
    limit: q.limit ?? 100,
  };
}
const within = (w: Window, at: number) =>
  (w.since === undefined || at >= w.since) && (w.until === undefined || at < w.until);

export async function archiveEvents(deps: AppDeps, scope: Scope, q: ArchiveQuery): Promise<StoredEvent[]> {
  const w = windowOf(scope, q);
  return deps.store.events.list({
    siteIds: w.siteIds,
    kinds: kindFilter(scope),
    kind: q.kind,
    since: w.since,
    until: w.until,
    limit: w.limit,
  });
}

export function eventSummary(e: StoredEvent): string {
  return Object.entries(e.envelope.data as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** The sites of the window, for the fire-room records that are kept per site. */
async function sitesOf(deps: AppDeps, w: Window): Promise<string[]> {
  return w.siteIds ?? (await deps.store.registry.sites()).map((s) => s.id);
}

export async function archiveTable(
  deps: AppDeps,
  scope: Scope,
  set: ArchiveSet,
  q: ArchiveQuery,
): Promise<ArchiveTable> {
  const w = windowOf(scope, q);
  switch (set) {
    case 'events':
      return {
        title: '事件档案 Event archive',
        columns: ['时间 time', '机构 site', '设备 device', '类型 kind', '内容 data'],
        widths: [130, 90, 90, 100, 360],
        rows: (await archiveEvents(deps, scope, q)).map((e) => [
          e.envelope.ts,
          e.siteId,
          e.deviceId,
          e.kind,
          eventSummary(e),
        ]),
      };
    case 'alerts': {
      const alerts = (
        await deps.store.alerts.list({ siteIds: w.siteIds, types: typeFilter(scope), limit: 10_000 })
      )
        .filter((a) => within(w, a.openedAt) && (!q.kind || a.type === q.kind))
        .slice(0, w.limit);
      return {
        title: '告警档案 Alarm archive',
        columns: [
          '发生 opened',
          '机构 site',
          '类型 type',
          '级别 severity',
          '内容 title',
          '状态 state',
          '确认 acknowledged',
          '处置 resolved',
          '升级 level',
        ],
        widths: [95, 60, 75, 50, 170, 55, 110, 110, 35],
        rows: alerts.map((a) => [
          iso(a.openedAt),
          a.siteId,
          a.type,
          a.severity,
          `${a.title}${a.drill ? ' (演练 drill)' : ''}${a.count > 1 ? ` ×${a.count}` : ''}`,
          a.state,
          a.ackedBy ? `${a.ackedBy} ${iso(a.ackedAt)}` : '',
          a.resolvedBy ? `${a.resolvedBy} ${iso(a.resolvedAt)}` : '',
          String(a.escalationLevel),
        ]),
      };
    }
    case 'duty': {
      const entries = (
        await Promise.all((await sitesOf(deps, w)).map((s) => deps.store.fireRoom.dutyLog(s, w.limit)))
      )
        .flat()
        .filter((d) => within(w, d.at))
        .sort((a, b) => b.at - a.at)
        .slice(0, w.limit);
      return {
        title: '值班记录 Duty log',
        columns: ['时间 time', '机构 site', '类型 kind', '记录人 author', '内容 entry'],
        widths: [130, 90, 100, 110, 340],
        rows: entries.map((d) => [
          iso(d.at),
          d.siteId,
          d.kind,
          d.author,
          typeof d.body.text === 'string' ? d.body.text : JSON.stringify(d.body),
        ]),
      };
    }
    case 'handovers': {
      const entries = (
        await Promise.all((await sitesOf(deps, w)).map((s) => deps.store.fireRoom.handovers(s, w.limit)))
      )
        .flat()
        .filter((x) => within(w, x.at))
        .sort((a, b) => b.at - a.at)
        .slice(0, w.limit);
      return {
        title: '交接班记录 Shift handovers',
        columns: ['时间 time', '机构 site', '交班 from', '接班 to', '记录人 author', '交接内容 note'],
        widths: [130, 80, 100, 100, 100, 260],
        rows: entries.map((x) => [
          iso(x.at),
          x.siteId,
          x.fromOperators.join(', '),
          x.toOperators.join(', '),
          x.author,
          x.note,
        ]),
      };
    }
  }
}

/** Fonts that can draw Chinese text, in order of preference (Debian's fonts-noto-cjk, fonts-wqy-zenhei). */
const CJK_FONTS: Array<[string, string | undefined]> = [
  ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'],
  ['/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', 'WenQuanYiZenHei'],
];

/** A landscape A4 PDF of one archive table, with who exported it, when and with which filter. */
export async function archivePdf(t: ArchiveTable, exportedBy: string, filter: string): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 36,
    info: { Title: `carewatch ${t.title}` },
  });
  const font = CJK_FONTS.find(([p]) => existsSync(p));
  if (font) doc.registerFont('cjk', font[0], font[1]);
  doc.font(font ? 'cjk' : 'Helvetica');
  doc.fontSize(14).text(`carewatch ${t.title}`);
  doc
    .fontSize(9)
    .text(`导出 exported ${new Date().toISOString()} · ${exportedBy} · ${filter} · ${t.rows.length} rows`);
  doc.moveDown();
  const row = (cells: string[]) => {
    const y = doc.y;
    let x = doc.page.margins.left;
    let height = 0;
    cells.forEach((c, i) => {
      const width = (t.widths[i] ?? 100) - 6;
      height = Math.max(height, doc.heightOfString(c, { width }));
      doc.text(c, x, y, { width });
      x += t.widths[i] ?? 100;
    });
    doc.x = doc.page.margins.left;
    doc.y = y + height + 4;
    if (doc.y > doc.page.height - doc.page.margins.bottom - 20) doc.addPage();
  };
  doc.fontSize(8);
  row(t.columns);
  for (const r of t.rows) row(r);
  doc.end();
  const chunks: Buffer[] = [];
  for await (const c of doc) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
