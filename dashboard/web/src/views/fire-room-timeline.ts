import { t } from '../i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
const DAY = 24 * 3600_000;

interface Attendance {
  at: number;
  operatorId: string | null;
  action: string;
  count: number | null;
}

export interface Interval {
  from: number;
  to: number;
}

/**
 * Who was on duty when: check-in/check-out pairs per operator (and the room's
 * occupancy > 0 from presence sensors), clipped to [now − 24 h, now]. An
 * operator still present has an interval up to now.
 */
export function dutyIntervals(
  attendance: Attendance[],
  present: Array<{ operatorId: string; since: number }>,
  now: number,
): Map<string, Interval[]> {
  const start = now - DAY;
  const out = new Map<string, Interval[]>();
  const open = new Map<string, number>();
  const add = (key: string, from: number, to: number) => {
    const f = Math.max(from, start);
    const e = Math.min(to, now);
    if (e > f) out.set(key, [...(out.get(key) ?? []), { from: f, to: e }]);
  };
  for (const a of [...attendance].sort((x, y) => x.at - y.at)) {
    const key = a.action === 'occupancy' ? '' : (a.operatorId ?? '');
    if (a.action === 'check_in' || (a.action === 'occupancy' && (a.count ?? 0) > 0)) {
      if (!open.has(key)) open.set(key, a.at);
    } else if (a.action === 'check_out' || a.action === 'occupancy') {
      const from = open.get(key);
      if (from !== undefined) add(key, from, a.at);
      open.delete(key);
    }
  }
  for (const p of present) if (!open.has(p.operatorId)) open.set(p.operatorId, p.since);
  for (const [key, from] of open) add(key, from, now);
  return out;
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** The attendance timeline of the last 24 h as an SVG: one row per operator, hour ticks. */
export function attendanceTimeline(
  attendance: Attendance[],
  present: Array<{ operatorId: string; since: number }>,
  names: Map<string, string>,
  now = Date.now(),
): SVGSVGElement {
  const rows = dutyIntervals(attendance, present, now);
  const keys = [...rows.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)));
  const label = 130;
  const width = 720;
  const rowH = 22;
  const right = 30;
  const x = (ms: number) => label + ((ms - (now - DAY)) / DAY) * (width - label - right);
  const svg = el('svg', {
    viewBox: `0 0 ${width} ${Math.max(1, keys.length) * rowH + 24}`,
    class: 'chart timeline',
  });
  svg.setAttribute('id', 'attendance-timeline');
  keys.forEach((key, i) => {
    const y = i * rowH;
    const name = key === '' ? t('occupancy') : (names.get(key) ?? key);
    const text = el('text', { x: 0, y: y + 15 });
    text.textContent = name;
    svg.append(text);
    for (const iv of rows.get(key) ?? []) {
      const r = el('rect', {
        x: x(iv.from),
        y: y + 3,
        width: Math.max(1, x(iv.to) - x(iv.from)),
        height: rowH - 6,
        'data-operator': key,
      });
      const title = el('title', {});
      title.textContent = `${name}: ${new Date(iv.from).toLocaleString()} – ${new Date(iv.to).toLocaleString()}`;
      r.append(title);
      svg.append(r);
    }
  });
  const base = keys.length * rowH;
  for (let hBack = 24; hBack >= 0; hBack -= 3) {
    const at = now - hBack * 3600_000;
    const tick = el('text', { x: x(at) - 12, y: base + 16 });
    const d = new Date(at);
    tick.textContent = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    svg.append(tick, el('line', { x1: x(at), x2: x(at), y1: 0, y2: base, class: 'tick' }));
  }
  if (keys.length === 0) {
    const none = el('text', { x: label, y: 15 });
    none.textContent = t('noData');
    svg.append(none);
  }
  return svg;
}
