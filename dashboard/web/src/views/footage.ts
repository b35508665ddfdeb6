/**
 * Footage of one camera: its recorded spans over the last hours (asked of
 * the site's gateway), a clip of any moment played in the browser, a
 * snapshot, and the event clips already at the central. Every look is
 * written to the access log by the server.
 */
import { api } from '../api.js';
import { h } from '../dom.js';
import { fmtTime, t } from '../i18n.js';

export interface MediaItem {
  id: string;
  kind: 'clip' | 'snapshot';
  cameraId: string;
  eventId: string | null;
  from: string;
  to: string;
  bytes: number;
  url: string;
}

interface Recordings {
  spans: Array<{ from: string; to: string; segments: number }>;
  oldest: string | null;
  newest: string | null;
}

/** A player for a clip or a picture for a snapshot, with a download link. */
export function mediaPlayer(m: MediaItem): HTMLElement {
  const viewer =
    m.kind === 'clip'
      ? h('video', {
          src: m.url,
          controls: true,
          autoplay: true,
          muted: true,
          playsinline: true,
          class: 'player',
        })
      : h('img', { src: m.url, alt: `${m.cameraId} ${fmtTime(Date.parse(m.from))}`, class: 'player' });
  return h(
    'figure',
    { class: 'media', 'data-media': m.id, 'data-kind': m.kind },
    viewer,
    h(
      'figcaption',
      { class: 'muted' },
      `${m.cameraId} · ${fmtTime(Date.parse(m.from))} – ${fmtTime(Date.parse(m.to))} · `,
      h('a', { href: `${m.url}?download=1` }, t('download')),
    ),
  );
}

const pad = (n: number) => String(n).padStart(2, '0');
/** `datetime-local` value in the browser's time zone. */
const localInput = (ms: number) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

/** Shorter pauses between spans are segment boundaries, not lost footage. */
const GAP_MIN_MS = 2_000;

export function footagePanel(siteId: string, cameraId: string): HTMLElement {
  const out = h('div', { class: 'footage-out' });
  const spans = h('ul', { class: 'spans' });
  const error = h('p', { class: 'error', role: 'alert' });
  const from = h('input', { type: 'datetime-local', step: 1, name: 'from' });
  const length = h(
    'select',
    { name: 'length' },
    ...[10, 30, 60, 120, 300].map((s) => h('option', { value: s, selected: s === 30 }, `${s} s`)),
  );
  const base = `/api/sites/${encodeURIComponent(siteId)}/cameras/${encodeURIComponent(cameraId)}`;
  const fail = (err: unknown) => {
    error.textContent = (err as Error).message;
  };
  const show = (m: MediaItem) => {
    out.textContent = '';
    out.append(mediaPlayer(m));
  };

  const play = async () => {
    error.textContent = '';
    const start = new Date(from.value).getTime();
    if (!Number.isFinite(start)) return;
    out.textContent = t('loading');
    try {
      const seconds = Number(length.value);
      const r = await api<{ media: MediaItem }>(`${base}/clips`, {
        method: 'POST',
        body: { from: new Date(start).toISOString(), to: new Date(start + seconds * 1000).toISOString() },
      });
      show(r.media);
    } catch (err) {
      out.textContent = '';
      fail(err);
    }
  };

  const loadSpans = async () => {
    spans.textContent = t('loading');
    try {
      const now = Date.now();
      const q = `from=${new Date(now - 6 * 3_600_000).toISOString()}&to=${new Date(now).toISOString()}`;
      const r = await api<Recordings>(`${base}/recordings?${q}`);
      spans.textContent = '';
      if (r.spans.length === 0) spans.append(h('li', { class: 'muted' }, t('noFootage')));
      let previousEnd: number | null = null;
      for (const s of r.spans) {
        const a = Date.parse(s.from);
        const b = Date.parse(s.to);
        // spans are cut where recording stopped: what lies between two of them is a gap
        if (previousEnd !== null && a - previousEnd >= GAP_MIN_MS)
          spans.append(
            h(
              'li',
              { class: 'gap', 'data-from': new Date(previousEnd).toISOString(), 'data-to': s.from },
              `${t('gap')} ${fmtTime(previousEnd)} – ${fmtTime(a)} (${Math.round((a - previousEnd) / 1000)} s)`,
            ),
          );
        previousEnd = b;
        spans.append(
          h(
            'li',
            { 'data-from': s.from, 'data-to': s.to },
            `${fmtTime(a)} – ${fmtTime(b)} (${s.segments}) `,
            h(
              'button',
              {
                type: 'button',
                class: 'play-span',
                onclick: () => {
                  // the latest half minute of the span, or all of it when shorter
                  from.value = localInput(Math.max(a, b - 30_000));
                  void play();
                },
              },
              `▶ ${t('playClip')}`,
            ),
          ),
        );
      }
      const last = r.spans.at(-1);
      if (last && !from.value)
        from.value = localInput(Math.max(Date.parse(last.from), Date.parse(last.to) - 30_000));
    } catch (err) {
      spans.textContent = '';
      fail(err);
    }
  };

  const snapshot = async () => {
    error.textContent = '';
    out.textContent = t('loading');
    try {
      show((await api<{ media: MediaItem }>(`${base}/snapshot`, { method: 'POST' })).media);
    } catch (err) {
      out.textContent = '';
      fail(err);
    }
  };

  const events = h('div', { class: 'event-media' });
  void api<{ media: MediaItem[] }>(`${base}/media`)
    .then((r) => {
      if (r.media.length === 0) return;
      events.append(
        h('h4', {}, t('eventClips')),
        h(
          'ul',
          {},
          ...r.media.map((m) =>
            h(
              'li',
              {},
              h(
                'button',
                { type: 'button', class: 'link', onclick: () => show(m) },
                `${m.kind === 'clip' ? '▶' : '■'} ${fmtTime(Date.parse(m.from))}${m.eventId ? ' · ⚠' : ''}`,
              ),
            ),
          ),
        ),
      );
    })
    .catch(fail);

  void loadSpans();
  return h(
    'section',
    { class: 'footage', 'data-camera': cameraId },
    h('h4', {}, `${t('footage')} · ${cameraId}`),
    h(
      'div',
      { class: 'row' },
      h('label', {}, `${t('clipFrom')} `, from),
      h('label', {}, `${t('clipLength')} `, length),
      h('button', { type: 'button', class: 'play', onclick: () => void play() }, `▶ ${t('playClip')}`),
      h('button', { type: 'button', class: 'snapshot', onclick: () => void snapshot() }, `${t('snapshot')}`),
    ),
    error,
    out,
    h('h4', {}, t('recordings')),
    spans,
    events,
  );
}
