import { h } from '../dom.js';
import { t } from '../i18n.js';
import { type Accident, safety } from './accidents-live.js';

function clock(s: number): string {
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** `42:17` left until the 1-hour report deadline, or `+03:05` past it; null once reported. */
export function remaining(a: Accident, now = Date.now()): { text: string; overdue: boolean } | null {
  if (a.state === 'reported') return null;
  const ms = a.deadlineAt - now;
  if (ms >= 0) return { text: clock(Math.ceil(ms / 1000)), overdue: false };
  return { text: `+${clock(Math.floor(-ms / 1000))}`, overdue: true };
}

/** The state badge of an accident: pending, overdue, reported, reported late. */
export function accidentBadge(a: Accident): HTMLElement {
  const [cls, key] =
    a.state === 'reported'
      ? a.reportedLate
        ? ['warn', 'reportedLate']
        : ['ok', 'reported']
      : a.state === 'overdue' || a.deadlineAt <= Date.now()
        ? ['bad', 'accOverdue']
        : ['warn', 'accPending'];
  return h('span', { class: `badge ${cls}`, 'data-state': a.state }, t(key));
}

/** The countdown element; `tick` refreshes its text each second without rebuilding the view. */
export function countdownEl(a: Accident): HTMLElement {
  const el = h('span', { class: 'countdown', 'data-accident-id': a.id });
  const r = remaining(a);
  el.textContent = r ? r.text : '';
  el.classList.toggle('overdue', r?.overdue ?? false);
  return el;
}

/** Updates every countdown under `root` from the shared accident map. */
export function tickCountdowns(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>('.countdown[data-accident-id]')) {
    const a = safety.accidents.get(el.dataset.accidentId ?? '');
    const r = a ? remaining(a) : null;
    el.textContent = r ? r.text : '';
    el.classList.toggle('overdue', r?.overdue ?? false);
  }
}

/** For the alert board: the accident classified from this alert, with its report countdown. */
export function boardAccidentCell(alertId: string): HTMLElement | '' {
  const a = safety.byAlert(alertId);
  if (!a) return '';
  return h(
    'div',
    { class: 'board-accident', 'data-accident-id': a.id },
    h('a', { class: 'link', href: `#/accidents/${a.id}` }, t('accident')),
    ' ',
    accidentBadge(a),
    ' ',
    a.state === 'reported' ? '' : h('span', {}, t('reportDueIn'), ' ', countdownEl(a)),
  );
}
