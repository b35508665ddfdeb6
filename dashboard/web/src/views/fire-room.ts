import { api } from '../api.js';
import { h, table } from '../dom.js';
import { fmtTime, t } from '../i18n.js';
import { attendanceTimeline } from './fire-room-timeline.js';
import { sitePicker } from './site-picker.js';

interface Room {
  status: {
    staffed: boolean;
    certifiedPresent: number;
    minOperators: number;
    present: Array<{ operatorId: string; name: string | null; since: number; certified: boolean }>;
  };
  roster: Array<{ id: string; name: string; certificateNo: string; certificateExpiresAt: number }>;
  postChecks: Array<{
    id: string;
    issuedAt: number;
    issuedBy: string;
    deadlineAt: number;
    state: string;
    answeredBy: string | null;
    answeredAt: number | null;
  }>;
  dutyLog: Array<{ at: number; author: string; kind: string; body: Record<string, unknown> }>;
  handovers: Array<{
    at: number;
    fromOperators: string[];
    toOperators: string[];
    note: string;
    author: string;
  }>;
  attendance: Array<{ at: number; operatorId: string | null; action: string; count: number | null }>;
}

/** Who is on duty, certificates, attendance, post checks, duty log and handovers of one site. */
export async function fireRoomView(root: HTMLElement): Promise<void> {
  const body = h('div');
  const load = async (siteId: string) => {
    body.textContent = '';
    const room = await api<Room>(`/api/fire-room/${siteId}`);
    const now = Date.now();
    const s = room.status;
    const refresh = () => void load(siteId);
    body.append(
      h(
        'div',
        { class: 'cards' },
        h(
          'div',
          { class: 'card', id: 'staffing' },
          h(
            'span',
            { class: `badge ${s.staffed ? 'ok' : 'bad'}` },
            t(s.staffed ? 'staffed' : 'understaffed'),
          ),
          h('p', {}, `${t('certified')}: ${s.certifiedPresent} / ${s.minOperators}`),
          table(
            ['present', 'certified', 'time'].map(t),
            s.present.map((p) => [p.name ?? p.operatorId, p.certified ? '✔' : '✘', fmtTime(p.since)]),
          ),
        ),
        h(
          'div',
          { class: 'card' },
          h('h3', {}, t('postChecks')),
          h(
            'button',
            {
              type: 'button',
              id: 'issue-post-check',
              onclick: async () => {
                await api(`/api/fire-room/${siteId}/post-checks`, { method: 'POST' });
                refresh();
              },
            },
            t('issuePostCheck'),
          ),
          table(
            ['time', 'state', 'answer'].map(t),
            room.postChecks.map((c) => [
              fmtTime(c.issuedAt),
              h(
                'span',
                { class: `badge ${c.state === 'answered' ? 'ok' : c.state === 'missed' ? 'bad' : 'warn'}` },
                t(c.state),
              ),
              c.state === 'pending' && c.deadlineAt > now
                ? h(
                    'button',
                    {
                      type: 'button',
                      onclick: async () => {
                        await api(`/api/fire-room/${siteId}/post-checks/${c.id}/answer`, { method: 'POST' });
                        refresh();
                      },
                    },
                    t('answer'),
                  )
                : (c.answeredBy ?? ''),
            ]),
          ),
        ),
      ),
      h('h3', {}, t('roster')),
      table(
        ['username', 'certificate', 'expires'].map(t),
        room.roster.map((o) => [
          o.name,
          o.certificateNo,
          h(
            'span',
            { class: `badge ${o.certificateExpiresAt > now ? 'ok' : 'bad'}` },
            new Date(o.certificateExpiresAt).toLocaleDateString(),
          ),
        ]),
      ),
      h('h3', {}, t('dutyLog')),
      table(
        ['time', 'kind', 'data'].map(t),
        room.dutyLog.map((d) => [fmtTime(d.at), d.kind, `${d.author}: ${JSON.stringify(d.body)}`]),
      ),
      h('h3', {}, t('handovers')),
      table(
        ['time', 'from', 'to', 'note'].map(t),
        room.handovers.map((x) => [
          fmtTime(x.at),
          x.fromOperators.join(', '),
          x.toOperators.join(', '),
          x.note,
        ]),
      ),
      h('h3', {}, t('attendanceTimeline')),
      attendanceTimeline(room.attendance, s.present, new Map(room.roster.map((o) => [o.id, o.name])), now),
      h('h3', {}, t('present')),
      table(
        ['time', 'device', 'kind'].map(t),
        room.attendance
          .slice(0, 50)
          .map((a) => [fmtTime(a.at), a.operatorId ?? String(a.count ?? ''), a.action]),
      ),
    );
  };
  const picker = await sitePicker((id) => void load(id));
  root.append(h('div', { class: 'row' }, picker), body);
  if (picker.value) await load(picker.value);
}
