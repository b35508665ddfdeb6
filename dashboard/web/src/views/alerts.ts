import { type Alert, api, type Me } from '../api.js';
import { h } from '../dom.js';
import { fmtTime, t } from '../i18n.js';
import type { LiveAlerts } from '../live.js';
import { boardAccidentCell } from './accidents-countdown.js';
import { safety } from './accidents-live.js';
import { type MediaItem, mediaPlayer } from './footage.js';

const SEVERITY_ORDER = ['critical', 'major', 'minor', 'warning', 'info'];

/** Alarms a camera may have filmed: the gateway cuts a clip around them. */
const CLIP_TYPES = new Set(['emergency_call', 'fire_alarm']);

function beep(): void {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  } catch {
    // no audio device: the visual board still updates
  }
}

function countdown(a: Alert): string {
  if (a.state !== 'open' || !a.nextEscalationAt) return '';
  const s = Math.max(0, Math.round((a.nextEscalationAt - Date.now()) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The live alert board: arrives over the WebSocket, with sound and a browser notification for new ones. */
export function alertsView(root: HTMLElement, live: LiveAlerts, user: Me): () => void {
  const error = h('p', { class: 'error', role: 'alert' });
  const tbody = h('tbody');
  // outside the table: the board re-renders every second, a playing clip must not
  const media = h('div', { id: 'alert-media' });
  const showMedia = async (a: Alert) => {
    media.textContent = t('loading');
    try {
      const r = await api<{ media: MediaItem[] }>(`/api/alerts/${encodeURIComponent(a.id)}/media`);
      media.textContent = '';
      media.append(h('h3', {}, `${t(a.type)} · ${a.siteId} · ${a.title}`));
      if (r.media.length === 0) media.append(h('p', { class: 'muted' }, t('noFootage')));
      for (const m of r.media) media.append(mediaPlayer(m));
    } catch (err) {
      media.textContent = '';
      error.textContent = (err as Error).message;
    }
  };
  const render = () => {
    tbody.textContent = '';
    const list = [...live.alerts.values()].sort(
      (a, b) =>
        Number(a.state === 'resolved') - Number(b.state === 'resolved') ||
        SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
        b.openedAt - a.openedAt,
    );
    for (const a of list) {
      const act = async (action: 'ack' | 'resolve') => {
        const note = window.prompt(t('note')) ?? '';
        try {
          const r = await api<{ alert: Alert }>(`/api/alerts/${a.id}/${action}`, {
            method: 'POST',
            body: note ? { note } : {},
          });
          live.update(r.alert);
          error.textContent = '';
        } catch (err) {
          error.textContent = (err as Error).message;
        }
      };
      tbody.append(
        h(
          'tr',
          { class: `sev-${a.severity} state-${a.state}`, 'data-alert-id': a.id, 'data-type': a.type },
          h('td', {}, t(a.severity)),
          h(
            'td',
            {},
            h('strong', {}, t(a.type)),
            ' ',
            a.title,
            a.count > 1 ? ` ×${a.count}` : '',
            a.drill ? h('span', { class: 'badge warn' }, ' 演练 drill') : '',
            a.suppressed ? h('span', { class: 'badge' }, ` ${t('suppressed')}`) : '',
            boardAccidentCell(a.id),
          ),
          h('td', {}, a.siteId),
          h('td', { class: 'state' }, t(a.state)),
          h(
            'td',
            {},
            String(a.escalationLevel),
            a.repeatCount ? h('span', { class: 'muted', title: t('reminders') }, ` ↻${a.repeatCount}`) : '',
            countdown(a) ? h('div', { class: 'muted' }, `${t('escalatesIn')} ${countdown(a)}`) : '',
          ),
          h('td', {}, fmtTime(a.openedAt)),
          h(
            'td',
            {},
            a.state === 'open' && user.can.acknowledge
              ? h(
                  'button',
                  { type: 'button', 'data-action': 'ack', onclick: () => void act('ack') },
                  t('ack'),
                )
              : '',
            ' ',
            a.state !== 'resolved' && user.can.resolve
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    'data-action': 'resolve',
                    onclick: () => void act('resolve'),
                  },
                  t('resolve'),
                )
              : '',
            ' ',
            CLIP_TYPES.has(a.type)
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    'data-action': 'clip',
                    onclick: () => void showMedia(a),
                  },
                  `${t('clipOfAlert')}`,
                )
              : '',
            ' ',
            user.can.resolve && a.state !== 'resolved' && !safety.byAlert(a.id)
              ? h(
                  'a',
                  {
                    class: 'link',
                    href: `#/accidents?alert=${encodeURIComponent(a.id)}`,
                    'data-action': 'accident',
                  },
                  t('classifyAccident'),
                )
              : '',
          ),
        ),
      );
    }
  };
  const off = live.on((_all, change) => {
    render();
    if (change?.change === 'opened' && !change.alert.suppressed) {
      if (change.alert.severity === 'critical' || change.alert.severity === 'major') beep();
      if ('Notification' in window && Notification.permission === 'granted') {
        new Notification(`${t(change.alert.type)} · ${change.alert.siteId}`, { body: change.alert.title });
      }
    }
  });
  const ticker = setInterval(render, 1000);
  root.append(
    h(
      'table',
      { id: 'alert-board' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['severity', 'alert', 'site', 'state', 'level', 'opened', 'actions'].map((k) =>
            h('th', {}, t(k)),
          ),
        ),
      ),
      tbody,
    ),
    error,
    media,
  );
  render();
  return () => {
    off();
    clearInterval(ticker);
  };
}
