import { api, type Me } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { footagePanel } from './footage.js';

interface Camera {
  deviceId: string;
  zone: string;
  online: boolean;
  recording: boolean;
  daysKept: number;
  forecastDays: number | null;
  continuityPct: number;
  code: string;
}
interface SiteCoverage {
  siteId: string;
  siteName: string;
  compliant: boolean;
  zones: Array<{ zone: string; ok: boolean; code: string; reason: string; cameras: Camera[] }>;
}

const ZONES = ['entrance', 'reception_hall', 'duty_room', 'corridor', 'canteen'];

/** Institutions × required zones, green or red with the reason; a cell opens its cameras. */
export async function coverageView(root: HTMLElement, user: Me): Promise<void> {
  const { sites } = await api<{ sites: SiteCoverage[] }>('/api/coverage');
  const detail = h('div', { id: 'coverage-detail' });
  const show = (s: SiteCoverage, zone: string) => {
    const z = s.zones.find((x) => x.zone === zone);
    detail.textContent = '';
    detail.append(
      h('h3', {}, `${s.siteName} · ${t(zone)}`),
      h('p', {}, z?.reason ?? ''),
      ...(z?.cameras ?? []).map((c) =>
        h(
          'div',
          { class: 'card' },
          h('strong', {}, c.deviceId),
          ' ',
          h('span', { class: `badge ${c.code === 'ok' ? 'ok' : 'bad'}` }, c.code),
          h(
            'div',
            { class: 'muted' },
            `${t('online')}: ${c.online ? '✔' : '✘'} · REC ${c.recording ? '✔' : '✘'} · ${c.daysKept} d · ${c.continuityPct}% · forecast ${c.forecastDays ?? '—'} d`,
          ),
          user.can.video
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'footage-open',
                  'data-camera': c.deviceId,
                  onclick: (e: Event) => {
                    const card = (e.target as HTMLElement).closest('.card')!;
                    const open = card.querySelector('.footage');
                    if (open) open.remove();
                    else card.append(footagePanel(s.siteId, c.deviceId));
                  },
                },
                `${t('footage')}`,
              )
            : null,
        ),
      ),
    );
  };
  root.append(
    h(
      'div',
      { class: 'row' },
      h('a', { class: 'badge', href: '/api/coverage.csv', id: 'coverage-csv' }, t('exportCsv')),
    ),
    h(
      'table',
      { id: 'coverage-matrix' },
      h('thead', {}, h('tr', {}, h('th', {}, t('site')), ...ZONES.map((z) => h('th', {}, t(z))))),
      h(
        'tbody',
        {},
        ...sites.map((s) =>
          h(
            'tr',
            { 'data-site': s.siteId },
            h('td', {}, h('strong', {}, s.siteName), h('div', { class: 'muted' }, s.siteId)),
            ...ZONES.map((zone) => {
              const z = s.zones.find((x) => x.zone === zone);
              return h(
                'td',
                { 'data-zone': zone, 'data-ok': String(z?.ok ?? false), title: z?.reason ?? '' },
                h(
                  'button',
                  { type: 'button', class: z?.ok ? 'cell-ok' : 'cell-bad', onclick: () => show(s, zone) },
                  z?.ok ? '✔' : `✘ ${z?.code ?? ''}`,
                ),
              );
            }),
          ),
        ),
      ),
    ),
    detail,
  );
}
