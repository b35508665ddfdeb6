import { api } from '../api.js';
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

/** Alerts over time and time to acknowledge, from the time-series store (InfluxDB or embedded). */
export async function chartsView(root: HTMLElement): Promise<void> {
  const data = await api<{
    perHour: Array<{ t: number; count: number }>;
    ackTimes: Array<{ t: number; count: number; meanS: number | null; maxS: number | null }>;
  }>('/api/charts/alerts?hours=24');
  const label = (t: number) => `${new Date(t).getHours()}:00`;
  const acked = data.ackTimes.filter((a) => a.count > 0);
  root.append(
    h(
      'div',
      { class: 'card' },
      h('h3', {}, t('alertsPerHour')),
      bars(
        data.perHour.map((p) => p.count),
        data.perHour.map((p) => label(p.t)),
      ),
    ),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, t('timeToAck')),
      acked.length
        ? bars(
            acked.map((a) => Math.round(((a.meanS ?? 0) / 60) * 10) / 10),
            acked.map((a) => label(a.t)),
          )
        : h('p', { class: 'muted' }, t('noData')),
    ),
  );
}
