import { api, type Me } from '../api.js';
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
export async function fireRoomView(root: HTMLElement, user: Me): Promise<void> {
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
      user.can.resolve ? dutyLogForm(siteId, refresh) : '',
      table(
        ['time', 'kind', 'data'].map(t),
        room.dutyLog.map((d) => [
          fmtTime(d.at),
          t(d.kind),
          `${d.author}: ${typeof d.body.text === 'string' ? d.body.text : JSON.stringify(d.body)}`,
        ]),
      ),
      h('h3', {}, t('handovers')),
      user.can.resolve ? handoverForm(siteId, room.roster, refresh) : '',
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

/** Sends a form's body; a refused one shows the server's reason beside the form. */
async function submit(path: string, body: unknown, error: HTMLElement, done: () => void): Promise<void> {
  error.textContent = '';
  try {
    await api(path, { method: 'POST', body });
    done();
  } catch (err) {
    error.textContent = (err as Error).message;
  }
}

/** A duty-log entry: equipment check, alarm handling or a note, in the operator's words. */
function dutyLogForm(siteId: string, done: () => void): HTMLElement {
  const kind = h(
    'select',
    { name: 'kind' },
    ...['equipment_check', 'alarm_handling', 'note'].map((k) => h('option', { value: k }, t(k))),
  );
  const text = h('textarea', { name: 'text', rows: 2, required: true, maxlength: 2000 });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { id: 'duty-log-form', class: 'row' },
    h('label', {}, `${t('kind')} `, kind),
    h('label', {}, `${t('note')} `, text),
    h('button', { type: 'submit' }, t('add')),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submit(
      `/api/fire-room/${siteId}/duty-log`,
      { kind: kind.value, body: { text: text.value } },
      error,
      done,
    );
  });
  return form;
}

/** A shift handover: who hands over to whom, with what the next shift must know. */
function handoverForm(siteId: string, roster: Room['roster'], done: () => void): HTMLElement {
  const pick = (name: string) =>
    h(
      'select',
      { name, multiple: true, size: Math.min(4, Math.max(2, roster.length)) },
      ...roster.map((o) => h('option', { value: o.id }, o.name)),
    );
  const from = pick('from');
  const to = pick('to');
  const note = h('textarea', { name: 'note', rows: 2, required: true, maxlength: 2000 });
  const error = h('p', { class: 'error', role: 'alert' });
  const chosen = (s: HTMLSelectElement) => [...s.selectedOptions].map((o) => o.value);
  const form = h(
    'form',
    { id: 'handover-form', class: 'row' },
    h('label', {}, `${t('from')} `, from),
    h('label', {}, `${t('to')} `, to),
    h('label', {}, `${t('note')} `, note),
    h('button', { type: 'submit' }, t('add')),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submit(
      `/api/fire-room/${siteId}/handovers`,
      { fromOperators: chosen(from), toOperators: chosen(to), note: note.value },
      error,
      done,
    );
  });
  return form;
}
