import { api } from '../api.js';
import { downloadCsv, h, table } from '../dom.js';
import { t } from '../i18n.js';

interface EventRow {
  id: string;
  siteId: string;
  deviceId: string;
  kind: string;
  ts: string;
  receivedAt: number;
  drill?: boolean;
  data: Record<string, unknown>;
}

const KINDS = [
  'emergency_call',
  'panel_alarm',
  'panel_status',
  'attendance',
  'post_check',
  'camera_state',
  'camera_event',
  'recording_state',
  'retention_state',
];
const HEADERS = ['time', 'site', 'device', 'kind', 'data'];

function summary(e: EventRow): string {
  return Object.entries(e.data)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** Records for inspections: filter, look, and take away as CSV or PDF. */
export async function archiveView(root: HTMLElement): Promise<void> {
  const kind = h(
    'select',
    { id: 'archive-kind' },
    h('option', { value: '' }, t('all')),
    ...KINDS.map((k) => h('option', { value: k }, k)),
  );
  const site = h('input', { id: 'archive-site', placeholder: t('site') });
  const out = h('div');
  let rows: EventRow[] = [];
  const query = () => {
    const q = new URLSearchParams({ limit: '500' });
    if (kind.value) q.set('kind', kind.value);
    if (site.value.trim()) q.set('siteId', site.value.trim());
    return q;
  };
  const load = async () => {
    rows = (await api<{ events: EventRow[] }>(`/api/events?${query()}`)).events;
    out.textContent = '';
    out.append(
      table(
        HEADERS.map(t),
        rows.map((e) => [new Date(e.ts).toLocaleString(), e.siteId, e.deviceId, e.kind, summary(e)]),
        { id: 'archive-table' },
      ),
    );
  };
  root.append(
    h(
      'div',
      { class: 'row' },
      kind,
      site,
      h('button', { type: 'button', id: 'archive-filter', onclick: () => void load() }, t('filter')),
      h(
        'button',
        {
          type: 'button',
          id: 'export-csv',
          class: 'secondary',
          onclick: () =>
            downloadCsv(
              'carewatch-archive.csv',
              HEADERS.map(t),
              rows.map((e) => [e.ts, e.siteId, e.deviceId, e.kind, summary(e)]),
            ),
        },
        t('exportCsv'),
      ),
      h(
        'a',
        {
          id: 'export-pdf',
          class: 'badge',
          href: '#',
          onclick: (ev: Event) => {
            ev.preventDefault();
            location.href = `/api/events.pdf?${query()}`;
          },
        },
        t('exportPdf'),
      ),
    ),
    out,
  );
  await load();
}
