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
  policyDays: number;
  forecastDays: number | null;
  continuityPct: number;
  diskFreeBytes?: number;
  diskTotalBytes?: number;
  /** The gateway's own margin (its `degradation.marginDays`); older gateways do not send it. */
  atRiskMarginDays?: number;
}
interface SiteCoverage {
  siteId: string;
  siteName: string;
  zones: Array<{ cameras: Camera[] }>;
  otherCameras?: Camera[];
}

/**
 * The gateway raises `retention_at_risk` when the forecast falls below the
 * policy plus its margin; this is the gateway's default, for reports that do
 * not carry the margin.
 */
const DEFAULT_AT_RISK_MARGIN_DAYS = 2;
const FLOOR_DAYS = 30;

export type RetentionState = 'ok' | 'short' | 'at_risk';

/** Short: less footage kept than the policy asks; at risk: the disk will not hold the policy much longer. */
export function retentionState(
  c: Pick<Camera, 'daysKept' | 'policyDays' | 'forecastDays' | 'atRiskMarginDays'>,
): RetentionState {
  const policy = Math.max(FLOOR_DAYS, c.policyDays);
  if (c.daysKept < policy) return 'short';
  const margin = c.atRiskMarginDays ?? DEFAULT_AT_RISK_MARGIN_DAYS;
  if (c.forecastDays !== null && c.forecastDays < policy + margin) return 'at_risk';
  return 'ok';
}

const LABEL: Record<RetentionState, string> = {
  ok: 'retentionOk',
  short: 'retentionShort',
  at_risk: 'retentionAtRisk',
};

function gib(bytes: number | undefined, total: number | undefined): string {
  if (bytes === undefined) return '—';
  const g = `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return total ? `${g} (${Math.round((bytes / total) * 100)}%)` : g;
}

/** Retention per camera in scope: days kept against the policy, forecast, continuity, disk; footage with its gaps. */
export async function retentionView(root: HTMLElement, user: Me): Promise<void> {
  const { sites } = await api<{ sites: SiteCoverage[] }>('/api/coverage');
  const rows = sites.flatMap((s) =>
    [...s.zones.flatMap((z) => z.cameras), ...(s.otherCameras ?? [])].map((c) => ({ site: s, c })),
  );
  const body = h('tbody');
  for (const { site, c } of rows) {
    const state = retentionState(c);
    const tr = h(
      'tr',
      { 'data-site': site.siteId, 'data-camera': c.deviceId, 'data-state': state },
      h('td', {}, h('strong', {}, site.siteName), h('div', { class: 'muted' }, site.siteId)),
      h('td', {}, c.deviceId),
      h('td', {}, t(c.zone)),
      h('td', { class: 'num kept' }, String(c.daysKept)),
      h('td', { class: 'num policy' }, String(Math.max(FLOOR_DAYS, c.policyDays))),
      h('td', { class: 'num forecast' }, c.forecastDays === null ? '—' : String(Math.round(c.forecastDays))),
      h('td', { class: 'num continuity' }, `${c.continuityPct}%`),
      h('td', { class: 'num disk' }, gib(c.diskFreeBytes, c.diskTotalBytes)),
      h(
        'td',
        {},
        h(
          'span',
          { class: `badge ${state === 'ok' ? 'ok' : state === 'short' ? 'bad' : 'warn'}` },
          t(LABEL[state]),
        ),
        c.online && c.recording
          ? ''
          : h('span', { class: 'badge bad' }, ` ${c.online ? 'REC ✘' : t('offline')}`),
      ),
      h(
        'td',
        {},
        user.can.video
          ? h(
              'button',
              {
                type: 'button',
                class: 'footage-open',
                onclick: () => {
                  const next = tr.nextElementSibling;
                  if (next?.classList.contains('footage-row')) return next.remove();
                  tr.after(
                    h(
                      'tr',
                      { class: 'footage-row' },
                      h('td', { colspan: 10 }, footagePanel(site.siteId, c.deviceId)),
                    ),
                  );
                },
              },
              t('footage'),
            )
          : '',
      ),
    );
    body.append(tr);
  }
  root.append(
    h('p', { class: 'muted' }, t('retentionNote')),
    h(
      'table',
      { id: 'retention-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...[
            'site',
            'camera',
            'zone',
            'daysKept',
            'policyDays',
            'forecastDays',
            'continuity',
            'diskFree',
            'state',
            '',
          ].map((k) => h('th', {}, k ? t(k) : '')),
        ),
      ),
      body,
    ),
    rows.length === 0 ? h('p', { class: 'muted' }, t('noData')) : '',
  );
}
