import { api } from '../api.js';
import { downloadCsv, h, table } from '../dom.js';
import { t } from '../i18n.js';

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
const SETS = ['events', 'alerts', 'duty', 'handovers'] as const;
const SET_LABEL: Record<(typeof SETS)[number], string> = {
  events: 'archiveEvents',
  alerts: 'archiveAlerts',
  duty: 'dutyLog',
  handovers: 'handovers',
};

interface ArchiveTable {
  title: string;
  columns: string[];
  rows: string[][];
}

/** Records for inspections: events, alarms, duty log, handovers; filter, look, and take away as CSV or PDF. */
export async function archiveView(root: HTMLElement): Promise<void> {
  const set = h(
    'select',
    { id: 'archive-set' },
    ...SETS.map((x) => h('option', { value: x }, t(SET_LABEL[x]))),
  );
  const kind = h(
    'select',
    { id: 'archive-kind' },
    h('option', { value: '' }, t('all')),
    ...KINDS.map((k) => h('option', { value: k }, k)),
  );
  const site = h('input', { id: 'archive-site', placeholder: t('site') });
  const since = h('input', { id: 'archive-since', type: 'date', title: t('since') });
  const until = h('input', { id: 'archive-until', type: 'date', title: t('until') });
  const out = h('div');
  let shown: ArchiveTable = { title: '', columns: [], rows: [] };
  const query = () => {
    const q = new URLSearchParams({ limit: '500' });
    if (kind.value && set.value === 'events') q.set('kind', kind.value);
    if (site.value.trim()) q.set('siteId', site.value.trim());
    if (since.value) q.set('since', since.value);
    if (until.value) q.set('until', until.value);
    return q;
  };
  const load = async () => {
    kind.hidden = set.value !== 'events';
    shown = await api<ArchiveTable>(`/api/archive/${set.value}?${query()}`);
    out.textContent = '';
    out.append(table(shown.columns, shown.rows, { id: 'archive-table', 'data-set': set.value }));
  };
  set.addEventListener('change', () => void load());
  root.append(
    h(
      'div',
      { class: 'row' },
      set,
      kind,
      site,
      since,
      until,
      h('button', { type: 'button', id: 'archive-filter', onclick: () => void load() }, t('filter')),
      h(
        'button',
        {
          type: 'button',
          id: 'export-csv',
          class: 'secondary',
          onclick: () => downloadCsv(`carewatch-${set.value}.csv`, shown.columns, shown.rows),
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
            location.href = `/api/archive/${set.value}/pdf?${query()}`;
          },
        },
        t('exportPdf'),
      ),
    ),
    out,
  );
  await load();
}
