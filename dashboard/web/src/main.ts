import { ApiError, login, logout, type Me, me } from './api.js';
import { h } from './dom.js';
import { currentLang, setLang, t } from './i18n.js';
import { LiveAlerts } from './live.js';
import { accidentsView } from './views/accidents.js';
import { safety } from './views/accidents-live.js';
import { alertsView } from './views/alerts.js';
import { archiveView } from './views/archive.js';
import { chartsView } from './views/charts.js';
import { coverageView } from './views/coverage.js';
import { fireRoomView } from './views/fire-room.js';
import { hazardsView } from './views/hazards.js';
import { retentionView } from './views/retention.js';
import { sitesView } from './views/sites.js';

const ROUTES = [
  'alerts',
  'accidents',
  'hazards',
  'sites',
  'coverage',
  'retention',
  'fire-room',
  'archive',
  'charts',
] as const;
type Route = (typeof ROUTES)[number];
const LABEL: Record<Route, string> = {
  alerts: 'alerts',
  accidents: 'accidents',
  hazards: 'hazards',
  sites: 'sites',
  coverage: 'coverage',
  retention: 'retention',
  'fire-room': 'fireRoom',
  archive: 'archive',
  charts: 'charts',
};

const view = document.getElementById('view')!;
const conn = document.getElementById('conn')!;
let user: Me | null = null;
let live: LiveAlerts | undefined;
let cleanup: (() => void) | undefined;

function setConn(up: boolean): void {
  conn.className = up ? 'up' : 'down';
  conn.textContent = t(up ? 'online' : 'offline');
  conn.dataset.state = up ? 'up' : 'down';
}

function header(): void {
  const nav = document.getElementById('nav')!;
  nav.textContent = '';
  const route = current();
  if (user) {
    for (const r of ROUTES)
      nav.append(
        h('a', { href: `#/${r}`, class: r === route ? 'active' : undefined, 'data-route': r }, t(LABEL[r])),
      );
  }
  document.getElementById('user')!.textContent = user ? `${user.username} · ${user.role}` : '';
  const lang = document.getElementById('lang')!;
  lang.textContent = currentLang() === 'en' ? '中文' : 'English';
  const out = document.getElementById('logout')!;
  out.hidden = !user;
  out.textContent = t('logout');
  setConn(conn.dataset.state === 'up');
}

function current(): Route {
  // `#/accidents/<id>` and `#/accidents?alert=<id>` belong to the accidents view
  const r = location.hash.replace(/^#\//, '').split(/[/?]/)[0] as Route;
  return ROUTES.includes(r) ? r : 'alerts';
}

async function render(): Promise<void> {
  cleanup?.();
  cleanup = undefined;
  header();
  view.textContent = '';
  if (!user) return showLogin();
  try {
    switch (current()) {
      case 'alerts':
        cleanup = alertsView(view, live!, user);
        break;
      case 'accidents':
        cleanup = await accidentsView(view, live!, user);
        break;
      case 'hazards':
        cleanup = await hazardsView(view, user);
        break;
      case 'sites':
        await sitesView(view);
        break;
      case 'coverage':
        await coverageView(view, user);
        break;
      case 'retention':
        await retentionView(view, user);
        break;
      case 'fire-room':
        await fireRoomView(view, user);
        break;
      case 'archive':
        await archiveView(view);
        break;
      case 'charts':
        await chartsView(view);
        break;
    }
  } catch (err) {
    view.append(h('p', { class: 'error' }, (err as Error).message));
  }
}

function showLogin(): void {
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'login', id: 'login' },
    h('input', { name: 'username', autocomplete: 'username', placeholder: t('username'), required: true }),
    h('input', {
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      placeholder: t('password'),
      required: true,
    }),
    h('button', { type: 'submit' }, t('login')),
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    try {
      user = await login(String(f.get('username')), String(f.get('password')));
      started();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : String(err);
    }
  });
  view.append(form);
}

function started(): void {
  live?.close();
  live = new LiveAlerts();
  live.onConnection = setConn;
  safety.attach(live);
  live.connect();
  if ('Notification' in window && Notification.permission === 'default')
    void Notification.requestPermission();
  void render();
}

document.getElementById('lang')!.addEventListener('click', () => {
  setLang(currentLang() === 'en' ? 'zh-CN' : 'en');
  void render();
});
document.getElementById('logout')!.addEventListener('click', async () => {
  await logout();
  live?.close();
  safety.detach();
  user = null;
  setConn(false);
  void render();
});
window.addEventListener('hashchange', () => void render());

setLang(currentLang());
setConn(false);
void me().then((u) => {
  user = u;
  if (u) started();
  else void render();
});
