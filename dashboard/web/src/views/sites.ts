import { api } from '../api.js';
import { h, table } from '../dom.js';
import { fmtTime, t } from '../i18n.js';

interface SiteView {
  id: string;
  name: string;
  region: string | null;
  openAlerts: number;
  gateways: Array<{
    gatewayId: string;
    state: string;
    lastHeartbeatAt: number | null;
    outboxDepth: number | null;
  }>;
}

interface RegionView {
  id: string;
  parentId: string | null;
  name: string;
  level: string;
}

/** Open alerts and offline gateways of a set of sites, for a tree node's line. */
function tally(sites: SiteView[]): { sites: number; open: number; offline: number } {
  return {
    sites: sites.length,
    open: sites.reduce((n, s) => n + s.openAlerts, 0),
    offline: sites.filter((s) => s.gateways.length === 0 || s.gateways.some((g) => g.state !== 'online'))
      .length,
  };
}

/** province → city → district → street, each with its institutions and their totals; unplaced sites last. */
function regionTree(regions: RegionView[], sites: SiteView[]): HTMLElement {
  const known = new Set(regions.map((r) => r.id));
  const children = (id: string | null) =>
    regions.filter(
      (r) => r.parentId === id || (id === null && r.parentId !== null && !known.has(r.parentId)),
    );
  const sitesUnder = (id: string): SiteView[] => [
    ...sites.filter((s) => s.region === id),
    ...regions.filter((r) => r.parentId === id).flatMap((r) => sitesUnder(r.id)),
  ];
  const siteItem = (s: SiteView) =>
    h(
      'li',
      { 'data-site': s.id },
      h('strong', {}, s.name),
      ' ',
      ...s.gateways.map((g) =>
        h('span', { class: `badge ${g.state === 'online' ? 'ok' : 'bad'}` }, t(g.state)),
      ),
      s.openAlerts ? h('span', { class: 'badge warn' }, ` ${t('openAlerts')} ${s.openAlerts}`) : '',
    );
  const node = (r: RegionView): HTMLElement => {
    const n = tally(sitesUnder(r.id));
    return h(
      'li',
      { 'data-region': r.id, 'data-sites': String(n.sites), 'data-open': String(n.open) },
      h(
        'details',
        { open: true },
        h(
          'summary',
          {},
          h('strong', {}, r.name),
          h('span', { class: 'muted' }, ` ${t(r.level)} · ${n.sites} ${t('sites')}`),
          n.open ? h('span', { class: 'badge warn' }, ` ${t('openAlerts')} ${n.open}`) : '',
          n.offline ? h('span', { class: 'badge bad' }, ` ${t('offline')} ${n.offline}`) : '',
        ),
        h('ul', {}, ...children(r.id).map(node), ...sites.filter((s) => s.region === r.id).map(siteItem)),
      ),
    );
  };
  const unplaced = sites.filter((s) => !s.region || !known.has(s.region));
  return h(
    'ul',
    { id: 'region-tree', class: 'tree' },
    ...children(null).map(node),
    ...(unplaced.length
      ? [
          h(
            'li',
            { 'data-region': '', 'data-sites': String(unplaced.length) },
            h(
              'details',
              { open: true },
              h('summary', {}, t('noRegion')),
              h('ul', {}, ...unplaced.map(siteItem)),
            ),
          ),
        ]
      : []),
  );
}

export async function sitesView(root: HTMLElement): Promise<void> {
  const { sites, regions } = await api<{ sites: SiteView[]; regions: RegionView[] }>('/api/sites');
  root.append(
    regionTree(regions, sites),
    table(
      ['site', 'region', 'gateway', 'lastHeartbeat', 'openAlerts'].map(t),
      sites.map((s) => [
        h('span', {}, h('strong', {}, s.name), h('div', { class: 'muted' }, s.id)),
        s.region ?? '—',
        h(
          'span',
          {},
          ...s.gateways.map((g) =>
            h(
              'span',
              { class: `badge ${g.state === 'online' ? 'ok' : 'bad'}` },
              `${g.gatewayId}: ${t(g.state)}`,
            ),
          ),
        ),
        fmtTime(s.gateways[0]?.lastHeartbeatAt),
        String(s.openAlerts),
      ]),
      { id: 'sites-table' },
    ),
  );
}
