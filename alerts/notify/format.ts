import type { Severity } from '../../storage/types.js';
import { alertTypeLabels } from '../labels.js';
import type { SafetySubject } from './safety.js';
import type { AlertChange, Message, Notification } from './types.js';

/**
 * Message text: zh-CN first, the English after it, e.g.
 * `【紧急】紧急呼叫 Emergency call, room 203 — 阳光养老院`.
 */
export interface FormatOptions {
  /** Base URL of the dashboard; with it every message links to its alert. */
  baseUrl?: string | undefined;
  /** Display name of a site (institution); the site id when unknown. */
  siteName?: ((siteId: string) => string | undefined) | undefined;
  /** Offset of local time in minutes (480: China Standard Time). */
  utcOffsetMinutes?: number | undefined;
  /** Lines listed in a grouped summary before "and N more". */
  maxItems?: number | undefined;
}

export interface Rendered {
  /** One line: the subject of an e-mail, the title of a robot card. */
  title: string;
  /** Plain text, several lines. */
  text: string;
  /** Markdown for chat robots. */
  markdown: string;
  /** A short text for SMS. */
  short: string;
  /** Link to the alert (or the alert board for summaries), when a base URL is configured. */
  link: string | null;
}

const SEVERITY_ZH: Record<Severity, string> = {
  critical: '紧急',
  major: '重要',
  minor: '次要',
  warning: '警告',
  info: '提示',
};
const SEVERITY_RANK: Record<Severity, number> = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 };

const CHANGE_LABEL: Record<AlertChange, string> = {
  opened: '新告警 opened',
  repeated: '重复 repeated',
  acknowledged: '已确认 acknowledged',
  resolved: '已解除 resolved',
  escalated: '已升级 escalated',
  renotified: '再次提醒 reminder',
};

const STATE_LABEL: Record<string, string> = {
  open: '未处理 open',
  acknowledged: '已确认 acknowledged',
  resolved: '已解除 resolved',
};

const TYPE_ZH: Record<string, string> = alertTypeLabels('zh');

const LEVEL_LABEL: Record<string, string> = {
  on_duty: '值班人员 on duty',
  institution_head: '机构负责人 institution head',
  civil_affairs_dispatch: '民政调度 civil-affairs dispatch',
  emergency_management: '应急管理 emergency management',
};

export function severityLabel(s: Severity): string {
  return `${SEVERITY_ZH[s]} ${s}`;
}

export function levelLabel(level: number, name: string): string {
  return `L${level} ${LEVEL_LABEL[name] ?? name}`;
}

function siteOf(n: Notification, o: FormatOptions): string {
  return o.siteName?.(n.alert.siteId) ?? n.alert.siteId;
}

function linkTo(o: FormatOptions, alertId?: string, view = 'alerts'): string | null {
  if (!o.baseUrl) return null;
  const base = o.baseUrl.replace(/\/+$/, '');
  return alertId ? `${base}/#/${view}/${encodeURIComponent(alertId)}` : `${base}/#/${view}`;
}

function localTime(ms: number, o: FormatOptions): string {
  const off = o.utcOffsetMinutes ?? 480;
  const iso = new Date(ms + off * 60_000).toISOString().slice(0, 19).replace('T', ' ');
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${iso} UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** `【紧急】紧急呼叫 Emergency call, room 203 — 阳光养老院` (with the change when it is not `opened`). */
export function headline(n: Notification, o: FormatOptions = {}): string {
  if (n.safety) return safetyHeadline(n.safety, siteOf(n, o), o);
  const a = n.alert;
  const drill = a.drill ? '【演练 Drill】' : '';
  const change = n.change === 'opened' ? '' : `[${CHANGE_LABEL[n.change]}] `;
  const zhType = TYPE_ZH[a.type];
  const what = zhType ? `${zhType} ${a.title}` : a.title;
  return `${drill}【${SEVERITY_ZH[a.severity]}】${change}${what} — ${siteOf(n, o)}`;
}

function detailLines(n: Notification, o: FormatOptions): Array<[string, string]> {
  const a = n.alert;
  const rows: Array<[string, string]> = [
    ['级别 Severity', severityLabel(a.severity)],
    ['机构 Site', `${siteOf(n, o)} (${a.siteId})`],
    ['状态 State', STATE_LABEL[a.state] ?? a.state],
    ['变化 Change', CHANGE_LABEL[n.change]],
    ['升级 Escalation', levelLabel(n.level, n.levelName)],
  ];
  if (a.count > 1) rows.push(['次数 Count', String(a.count)]);
  if (a.ackedBy && a.state !== 'open') rows.push(['确认人 Acknowledged by', a.ackedBy]);
  rows.push(['时间 Time', localTime(a.updatedAt, o)]);
  return rows;
}

function bySeverity(items: Notification[]): Notification[] {
  return [...items].sort(
    (x, y) => SEVERITY_RANK[x.alert.severity] - SEVERITY_RANK[y.alert.severity] || x.createdAt - y.createdAt,
  );
}

function severityCounts(items: Notification[]): string {
  const counts = new Map<Severity, number>();
  for (const n of items) counts.set(n.alert.severity, (counts.get(n.alert.severity) ?? 0) + 1);
  return [...counts]
    .sort((x, y) => SEVERITY_RANK[x[0]] - SEVERITY_RANK[y[0]])
    .map(([s, c]) => `${SEVERITY_ZH[s]} ${s}: ${c}`)
    .join(', ');
}

const SAFETY_TAG: Record<SafetySubject['event'], string> = {
  accident_classified: '【安全事故 Safety accident】',
  accident_deadline_near: '【事故上报即将超时 Accident report due soon】',
  accident_overdue: '【事故上报已超时 Accident report overdue】',
  hazard_opened: '【新隐患 New hazard】',
  hazard_overdue: '【隐患整改逾期 Hazard rectification overdue】',
};

const HAZARD_STATE: Record<string, string> = {
  open: '待整改 open',
  rectifying: '整改中 rectifying',
  closed: '已销号 closed',
};

/** `12分05秒` / `12 min 05 s`: the time left to (or past) an accident's report deadline. */
function minutes(s: number): [string, string] {
  const abs = Math.abs(s);
  const m = Math.floor(abs / 60);
  const sec = String(abs % 60).padStart(2, '0');
  return [`${m}分${sec}秒`, `${m} min ${sec} s`];
}

function safetyHeadline(x: SafetySubject, site: string, o: FormatOptions): string {
  if ('accident' in x) {
    const due = localTime(x.accident.deadlineAt, o);
    const [zh, en] = minutes(x.remainingS);
    const when =
      x.event === 'accident_overdue'
        ? `已超过1小时上报时限 ${zh} / ${en} past the 1-hour deadline (${due})`
        : `须在 ${due} 前上报，剩余 ${zh} / report by ${due}, ${en} left`;
    return `${SAFETY_TAG[x.event]}${x.accident.title} — ${site}：${when}`;
  }
  return `${SAFETY_TAG[x.event]}${x.hazard.title} — ${site}`;
}

function safetyRows(x: SafetySubject, n: Notification, o: FormatOptions): Array<[string, string]> {
  const rows: Array<[string, string]> = [['机构 Site', `${siteOf(n, o)} (${n.alert.siteId})`]];
  if ('accident' in x) {
    const a = x.accident;
    rows.push(
      ['认定 Classified', `${localTime(a.classifiedAt, o)} · ${a.classifiedBy}`],
      ['上报时限 Report deadline', localTime(a.deadlineAt, o)],
      ['状态 State', a.state === 'overdue' ? '已超时 overdue' : '待上报 pending report'],
    );
    if (a.alertId) rows.push(['告警 Alert', a.alertId]);
  } else {
    const h = x.hazard;
    rows.push(
      ['类型 Kind', h.kind],
      ['部位 Source', h.source],
      ['状态 State', HAZARD_STATE[h.state] ?? h.state],
      ['责任人 Responsible', h.responsible ?? '未指定 unassigned'],
      ['整改期限 Rectify by', h.rectifyBy === null ? '未设定 not set' : localTime(h.rectifyBy, o)],
      ['发现 Opened', localTime(h.openedAt, o)],
    );
  }
  return rows;
}

function renderSafety(x: SafetySubject, n: Notification, o: FormatOptions): Rendered {
  const title = headline(n, o);
  const link = linkTo(o, n.alert.id, 'accident' in x ? 'accidents' : 'hazards');
  const rows = safetyRows(x, n, o);
  const textLines = [title, ...rows.map(([k, v]) => `${k}: ${v}`)];
  const md = [`### ${title}`, '', ...rows.map(([k, v]) => `- **${k}**: ${v}`)];
  if (link) {
    textLines.push(`链接 Link: ${link}`);
    md.push('', `[查看详情 Open](${link})`);
  }
  const short = `${title}${link ? ` ${link}` : ''}`;
  return { title, text: textLines.join('\n'), markdown: md.join('\n'), short, link };
}

function renderSingle(n: Notification, o: FormatOptions): Rendered {
  if (n.safety) return renderSafety(n.safety, n, o);
  const title = headline(n, o);
  const link = linkTo(o, n.alert.id);
  const rows = detailLines(n, o);
  const textLines = [title, ...rows.map(([k, v]) => `${k}: ${v}`)];
  const md = [`### ${title}`, '', ...rows.map(([k, v]) => `- **${k}**: ${v}`)];
  if (link) {
    textLines.push(`链接 Link: ${link}`);
    md.push('', `[查看告警 Open alert](${link})`);
  }
  const short = `${title}; ${STATE_LABEL[n.alert.state] ?? n.alert.state}${link ? ` ${link}` : ''}`;
  return { title, text: textLines.join('\n'), markdown: md.join('\n'), short, link };
}

function renderMany(m: Message, o: FormatOptions): Rendered {
  const items = bySeverity(m.notifications);
  const first = items[0]!;
  const sites = new Set(items.map((n) => n.alert.siteId));
  const where = sites.size === 1 ? ` — ${siteOf(first, o)}` : ` — ${sites.size} 个机构 sites`;
  const why = m.kind === 'summary' ? '（限流汇总 rate-limited summary）' : '';
  const title = `【告警汇总】${items.length} 条告警变化 Alert summary: ${items.length} changes${where}${why}`;
  const link = linkTo(o);
  const max = o.maxItems ?? 10;
  const shown = items.slice(0, max);
  const lines = shown.map(
    (n) => `${headline(n, o)} · ${levelLabel(n.level, n.levelName)} · ${localTime(n.alert.updatedAt, o)}`,
  );
  const more = items.length - shown.length;
  const moreLine = more > 0 ? `…另有 ${more} 条 and ${more} more` : null;
  const counts = `级别 Severity: ${severityCounts(items)}`;
  const textLines = [title, counts, ...lines.map((l) => `- ${l}`)];
  const md = [`### ${title}`, '', `**${counts}**`, '', ...lines.map((l) => `- ${l}`)];
  if (moreLine) {
    textLines.push(moreLine);
    md.push(`- ${moreLine}`);
  }
  if (link) {
    textLines.push(`链接 Link: ${link}`);
    md.push('', `[查看告警 Open alerts](${link})`);
  }
  const short = `${title}; ${counts}${link ? ` ${link}` : ''}`;
  return { title, text: textLines.join('\n'), markdown: md.join('\n'), short, link };
}

export function renderMessage(m: Message, o: FormatOptions = {}): Rendered {
  const only = m.notifications[0];
  return m.notifications.length === 1 && only ? renderSingle(only, o) : renderMany(m, o);
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function truncateBytes(s: string, max: number, ellipsis = '…'): string {
  if (Buffer.byteLength(s) <= max) return s;
  const room = max - Buffer.byteLength(ellipsis);
  let out = '';
  let used = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch);
    if (used + b > room) break;
    out += ch;
    used += b;
  }
  return out + ellipsis;
}
