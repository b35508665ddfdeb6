import type { Hazard, HazardKind, HazardState } from './types.js';

const KIND_ZH: Record<HazardKind, string> = {
  panel_trouble: '控制器故障',
  camera_offline: '摄像机离线',
  coverage_gap: '监控覆盖缺口',
  repeated_false_alarms: '反复误报',
  other: '其他',
};

const STATE_ZH: Record<HazardState, string> = {
  open: '待整改',
  rectifying: '整改中',
  closed: '已销号',
};

/**
 * The three lists side by side, one row per hazard:
 * 隐患清单 (hazard) | 整改清单 (rectification) | 责任清单 (responsibility).
 */
export const HAZARD_CSV_COLUMNS = [
  // 隐患清单
  '隐患编号',
  '机构',
  '部位/设备',
  '隐患类别',
  '隐患描述',
  '发现时间',
  // 整改清单
  '整改状态',
  '整改期限',
  '是否逾期',
  '整改完成时间',
  '整改措施及结果',
  // 责任清单
  '整改责任人',
  '销号确认人',
] as const;

/** `YYYY-MM-DD HH:mm` in the institution's time zone. */
export function formatTime(ms: number | null, timeZone: string): string {
  if (ms === null) return '';
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const p = (t: string) => parts.find((x) => x.type === t)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}`;
}

/** Quotes for CSV and defuses cells a spreadsheet would run as a formula. */
function cell(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** UTF-8 with a BOM and CRLF, so Excel opens the Chinese text as is. */
export function hazardsCsv(
  hazards: Hazard[],
  opts: { now: number; timeZone?: string; siteName?: (siteId: string) => string },
): string {
  const tz = opts.timeZone ?? 'Asia/Shanghai';
  const rows: string[][] = [[...HAZARD_CSV_COLUMNS]];
  for (const h of hazards) {
    const overdue =
      h.rectifyBy !== null &&
      (h.state === 'closed' ? (h.closedAt ?? 0) > h.rectifyBy : opts.now > h.rectifyBy);
    rows.push([
      h.id,
      opts.siteName?.(h.siteId) ?? h.siteId,
      h.source,
      KIND_ZH[h.kind],
      h.title,
      formatTime(h.openedAt, tz),
      STATE_ZH[h.state],
      formatTime(h.rectifyBy, tz),
      h.rectifyBy === null ? '' : overdue ? '是' : '否',
      formatTime(h.closedAt, tz),
      h.closeNote ?? '',
      h.responsible ?? '',
      h.closedBy ?? '',
    ]);
  }
  return `\uFEFF${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
