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

export async function sitesView(root: HTMLElement): Promise<void> {
  const { sites } = await api<{ sites: SiteView[] }>('/api/sites');
  root.append(
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
