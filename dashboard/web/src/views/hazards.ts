import { api, type Me } from '../api.js';
import { h } from '../dom.js';
import { fmtTime, t } from '../i18n.js';
import { type Hazard, safety } from './accidents-live.js';

const STATE_CLASS: Record<Hazard['state'], string> = { open: 'bad', rectifying: 'warn', closed: 'ok' };

function stateBadge(x: Hazard): HTMLElement {
  return h('span', { class: `badge ${STATE_CLASS[x.state]}` }, t(`hz_${x.state}`));
}

function overdue(x: Hazard): boolean {
  return x.state !== 'closed' && x.rectifyBy !== null && x.rectifyBy <= Date.now();
}

function section(id: string, title: string, headers: string[], rows: HTMLElement[]): HTMLElement {
  return h(
    'section',
    { class: 'card' },
    h('h3', {}, title),
    h(
      'table',
      { id },
      h('thead', {}, h('tr', {}, ...headers.map((k) => h('th', {}, t(k))))),
      h('tbody', {}, ...rows),
    ),
  );
}

/**
 * The hazard ledger as the three lists (隐患、整改、责任清单): what is wrong
 * where, who rectifies it by when, and the rectification with its closing note.
 */
export async function hazardsView(root: HTMLElement, user: Me): Promise<() => void> {
  const error = h('p', { class: 'error', role: 'alert' });
  const body = h('div');
  const act = async (path: string, payload: unknown) => {
    try {
      await api(path, { method: 'POST', body: payload });
      error.textContent = '';
      await load();
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  const assignForm = (x: Hazard) => {
    const who = h('input', {
      name: 'responsible',
      required: true,
      maxlength: 100,
      placeholder: t('responsible'),
    });
    const by = h('input', { name: 'rectifyBy', type: 'date', required: true, 'aria-label': t('rectifyBy') });
    const form = h(
      'form',
      { class: 'row', 'data-action': 'assign' },
      who,
      by,
      h('button', { type: 'submit' }, t('assign')),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      // the end of the chosen day, local time
      const rectifyBy = new Date(`${by.value}T23:59:59`).toISOString();
      void act(`/api/hazards/${x.id}/assign`, { responsible: who.value, rectifyBy });
    });
    return form;
  };
  const closeForm = (x: Hazard) => {
    const note = h('input', { name: 'note', maxlength: 2000, placeholder: t('closeNote') });
    const form = h(
      'form',
      { class: 'row', 'data-action': 'close' },
      note,
      h('button', { type: 'submit', class: 'secondary' }, t('closeHazard')),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!note.value.trim()) {
        error.textContent = t('noteRequired');
        note.focus();
        return;
      }
      void act(`/api/hazards/${x.id}/close`, { note: note.value });
    });
    return form;
  };
  const load = async () => {
    const { hazards } = await api<{ hazards: Hazard[] }>('/api/hazards?limit=1000');
    const open = hazards.filter((x) => x.state !== 'closed');
    const row = (x: Hazard, ...cells: Array<Node | string>) =>
      h('tr', { 'data-hazard-id': x.id, 'data-state': x.state }, ...cells.map((c) => h('td', {}, c)));
    body.textContent = '';
    body.append(
      section(
        'hazard-list',
        t('hazardList'),
        ['kind', 'hazard', 'site', 'source', 'found', 'state'],
        hazards.map((x) =>
          row(x, t(x.kind), x.title, x.siteId, x.source, fmtTime(x.openedAt), stateBadge(x)),
        ),
      ),
      section(
        'responsibility-list',
        t('responsibilityList'),
        ['hazard', 'responsible', 'rectifyBy', 'actions', 'site'],
        open.map((x) =>
          row(
            x,
            x.title,
            x.responsible ?? t('unassigned'),
            fmtTime(x.rectifyBy),
            user.can.resolve ? assignForm(x) : '',
            x.siteId,
          ),
        ),
      ),
      section(
        'rectification-list',
        t('rectificationList'),
        ['hazard', 'rectifyBy', 'state', 'actions', 'closed', 'closeNote'],
        hazards.map((x) =>
          row(
            x,
            x.title,
            h(
              'span',
              {},
              fmtTime(x.rectifyBy),
              overdue(x)
                ? h('span', { class: 'badge bad', 'data-overdue': 'true' }, ` ${t('hzOverdue')}`)
                : '',
            ),
            stateBadge(x),
            x.state !== 'closed' && user.can.resolve ? closeForm(x) : '',
            x.closedAt ? `${fmtTime(x.closedAt)} · ${x.closedBy ?? ''}` : '',
            x.closeNote ?? '',
          ),
        ),
      ),
    );
  };
  root.append(
    h(
      'div',
      { class: 'row' },
      h('h2', {}, t('hazards')),
      h(
        'a',
        { id: 'hazards-csv', class: 'link', href: '/api/hazards.csv', download: 'carewatch-hazards.csv' },
        t('exportCsv'),
      ),
    ),
    error,
    body,
  );
  await load();
  // changes of other supervisors arrive over the WebSocket; wait while someone is typing here
  let pending: ReturnType<typeof setTimeout> | undefined;
  const reload = () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      const focused = document.activeElement;
      const typing = focused instanceof HTMLInputElement && root.contains(focused) && focused.value !== '';
      if (typing) reload();
      else void load().catch((err: Error) => (error.textContent = err.message));
    }, 300);
  };
  const off = safety.on((kind) => {
    if (kind === 'hazard') reload();
  });
  return () => {
    off();
    clearTimeout(pending);
  };
}
