import { api, type Me } from '../api.js';
import { h } from '../dom.js';
import { fmtTime, t } from '../i18n.js';
import type { LiveAlerts } from '../live.js';
import { accidentBadge, countdownEl, tickCountdowns } from './accidents-countdown.js';
import { type Accident, type AccidentReport, safety } from './accidents-live.js';
import { sitePicker } from './site-picker.js';

const CHANNELS = ['phone', 'online', 'written'] as const;

/** `#/accidents/<id>` opens one; `#/accidents?alert=<id>` preselects the alert to classify. */
function fromHash(): { id: string | null; alert: string | null } {
  const [path = '', query = ''] = location.hash.replace(/^#\//, '').split('?');
  const id = path.split('/')[1];
  return { id: id ? decodeURIComponent(id) : null, alert: new URLSearchParams(query).get('alert') };
}

/** Classify a safety accident, from an alert of the board or on its own. */
async function classifyForm(live: LiveAlerts, preselect: string | null, error: HTMLElement) {
  const alertSel = h(
    'select',
    { id: 'accident-alert', name: 'alertId', 'aria-label': t('fromAlert') },
    h('option', { value: '' }, `— ${t('noAlert')} —`),
    ...[...live.alerts.values()]
      .filter((a) => a.state !== 'resolved' && !safety.byAlert(a.id))
      .map((a) =>
        h('option', { value: a.id, selected: a.id === preselect }, `${t(a.type)} · ${a.title} · ${a.siteId}`),
      ),
  );
  const site = await sitePicker(() => {});
  const title = h('input', {
    id: 'accident-title',
    name: 'title',
    required: true,
    maxlength: 200,
    placeholder: t('accidentTitle'),
  });
  const form = h(
    'form',
    { id: 'classify-accident', class: 'row' },
    alertSel,
    site,
    title,
    h('button', { type: 'submit' }, t('classifyAccident')),
  );
  const syncSite = () => {
    const a = live.alerts.get(alertSel.value);
    site.disabled = Boolean(a);
    if (a) {
      site.value = a.siteId;
      if (!title.value) title.value = a.title;
    }
  };
  alertSel.addEventListener('change', syncSite);
  syncSite();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const alert = live.alerts.get(alertSel.value);
    try {
      const r = await api<{ accident: Accident }>('/api/accidents', {
        method: 'POST',
        body: {
          siteId: alert ? alert.siteId : site.value,
          ...(alert ? { alertId: alert.id } : {}),
          title: title.value,
        },
      });
      safety.put(r.accident);
      location.hash = `#/accidents/${r.accident.id}`;
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  });
  return form;
}

/** One accident: deadline, countdown, the reports made, and the form to file one. */
async function detail(box: HTMLElement, id: string, user: Me, error: HTMLElement): Promise<void> {
  const r = await api<{ accident: Accident; reports: AccidentReport[] }>(`/api/accidents/${id}`);
  safety.put(r.accident);
  const a = r.accident;
  box.textContent = '';
  const form = h(
    'form',
    { id: 'report-form', class: 'row' },
    h('input', { name: 'to', required: true, maxlength: 200, placeholder: t('reportedTo') }),
    h(
      'select',
      { name: 'channel', 'aria-label': t('channel') },
      ...CHANNELS.map((c) => h('option', { value: c }, t(`ch_${c}`))),
    ),
    h('textarea', { name: 'note', rows: 2, maxlength: 2000, placeholder: t('note') }),
    h('button', { type: 'submit' }, t('fileReport')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const note = String(f.get('note') ?? '').trim();
    try {
      const res = await api<{ accident: Accident }>(`/api/accidents/${id}/reports`, {
        method: 'POST',
        body: { to: String(f.get('to')), channel: String(f.get('channel')), ...(note ? { note } : {}) },
      });
      safety.put(res.accident);
      error.textContent = '';
      await detail(box, id, user, error);
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  });
  box.append(
    h('h3', {}, a.title, ' ', accidentBadge(a)),
    h(
      'p',
      {},
      `${t('site')}: ${a.siteId} · ${t('classified')}: ${fmtTime(a.classifiedAt)} (${a.classifiedBy}) · `,
      `${t('deadline')}: ${fmtTime(a.deadlineAt)} `,
      a.state === 'reported' ? '' : h('strong', { class: 'big-countdown' }, countdownEl(a)),
      a.alertId ? h('span', { class: 'muted' }, ` · ${t('alert')} ${a.alertId}`) : '',
    ),
    h('h4', {}, t('reports')),
    r.reports.length
      ? h(
          'table',
          { id: 'accident-reports' },
          h(
            'thead',
            {},
            h('tr', {}, ...['time', 'reportedTo', 'channel', 'note', 'by'].map((k) => h('th', {}, t(k)))),
          ),
          h(
            'tbody',
            {},
            ...r.reports.map((x) =>
              h(
                'tr',
                {},
                h('td', {}, fmtTime(x.at), x.late ? h('span', { class: 'badge warn' }, ` ${t('late')}`) : ''),
                h('td', {}, x.toWhom),
                h('td', {}, t(`ch_${x.channel}`)),
                h('td', {}, x.note ?? ''),
                h('td', {}, x.by),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, t('noReports')),
    user.can.resolve ? form : '',
  );
}

/** Safety accidents and the 1-hour report deadline (1小时内报告), live over the WebSocket. */
export async function accidentsView(root: HTMLElement, live: LiveAlerts, user: Me): Promise<() => void> {
  const { id, alert } = fromHash();
  const error = h('p', { class: 'error', role: 'alert' });
  const tbody = h('tbody');
  const box = h('div', { id: 'accident-detail', class: 'card' });
  const renderList = () => {
    tbody.textContent = '';
    const list = [...safety.accidents.values()].sort((x, y) => y.classifiedAt - x.classifiedAt);
    for (const a of list) {
      tbody.append(
        h(
          'tr',
          { 'data-accident-id': a.id, class: a.id === id ? 'selected' : undefined },
          h('td', {}, h('a', { class: 'link', href: `#/accidents/${a.id}` }, a.title)),
          h('td', {}, countdownEl(a)),
          h('td', { class: 'state' }, accidentBadge(a)),
          h('td', {}, a.siteId),
          h('td', {}, fmtTime(a.deadlineAt)),
          h('td', {}, fmtTime(a.classifiedAt)),
        ),
      );
    }
  };
  root.append(
    h('h2', {}, t('accidents')),
    user.can.resolve ? await classifyForm(live, alert, error) : '',
    error,
    h(
      'table',
      { id: 'accidents-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['accidentTitle', 'remaining', 'state', 'site', 'deadline', 'classified'].map((k) =>
            h('th', {}, t(k)),
          ),
        ),
      ),
      tbody,
    ),
  );
  renderList();
  if (id) {
    root.append(box);
    await detail(box, id, user, error);
  }
  let shownState = id ? safety.accidents.get(id)?.state : undefined;
  const off = safety.on((kind, changed) => {
    if (kind !== 'accident') return;
    renderList();
    // another supervisor filed a report: show it
    const now = id ? safety.accidents.get(id)?.state : undefined;
    if (id && (changed === id || changed === '') && now !== shownState) {
      shownState = now;
      void detail(box, id, user, error).catch(() => undefined);
    }
  });
  const ticker = setInterval(() => {
    renderList();
    tickCountdowns(box);
  }, 1000);
  return () => {
    off();
    clearInterval(ticker);
  };
}
