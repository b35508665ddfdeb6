import { type Alert, api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

const SVG = 'http://www.w3.org/2000/svg';

function bars(values: number[], labels: string[], width = 720, height = 180): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 20}`);
  svg.setAttribute('class', 'chart');
  const max = Math.max(1, ...values);
  const w = width / values.length;
  values.forEach((v, i) => {
    const r = document.createElementNS(SVG, 'rect');
    const bh = (v / max) * height;
    r.setAttribute('x', String(i * w + 1));
    r.setAttribute('y', String(height - bh));
    r.setAttribute('width', String(Math.max(1, w - 2)));
    r.setAttribute('height', String(bh));
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${labels[i]}: ${v}`;
    r.append(title);
    svg.append(r);
    if (i % Math.ceil(values.length / 12) === 0) {
      const tx = document.createElementNS(SVG, 'text');
      tx.setAttribute('x', String(i * w));
      tx.setAttribute('y', String(height + 14));
      tx.textContent = labels[i] ?? '';
      svg.append(tx);
    }
  });
  return svg;
}

/** Alerts over time and time to acknowledge, from the alerts in scope. */
export async function chartsView(root: HTMLElement): Promise<void> {
  const { alerts } = await api<{ alerts: Alert[] }>('/api/alerts?limit=1000');
  const now = Date.now();
  const hours = Array.from({ length: 24 }, (_, i) => now - (23 - i) * 3600_000);
  const perHour = hours.map(
    (start) => alerts.filter((a) => a.openedAt >= start - 3600_000 && a.openedAt < start).length,
  );
  const acked = alerts
    .filter((a) => a.ackedAt !== null)
    .map((a) => ((a.ackedAt as number) - a.openedAt) / 60_000);
  const buckets = [1, 2, 5, 10, 30, 60, Number.POSITIVE_INFINITY];
  const ackCounts = buckets.map(
    (b, i) => acked.filter((m) => m <= b && m > (i ? (buckets[i - 1] as number) : -1)).length,
  );
  root.append(
    h(
      'div',
      { class: 'card' },
      h('h3', {}, t('alertsPerHour')),
      bars(
        perHour,
        hours.map((x) => `${new Date(x).getHours()}:00`),
      ),
    ),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, t('timeToAck')),
      acked.length
        ? bars(ackCounts, ['≤1', '≤2', '≤5', '≤10', '≤30', '≤60', '>60'])
        : h('p', { class: 'muted' }, t('noData')),
    ),
  );
}
