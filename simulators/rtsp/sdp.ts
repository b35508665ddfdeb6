/**
 * Just enough SDP (RFC 4566) to relay a publisher's session description to
 * readers: split into session and media sections, find each media's control
 * attribute, and rewrite control URLs so that readers SETUP `trackID=N`.
 */
import { CarewatchError } from '../../lib/errors.js';

export interface SdpMedia {
  /** The `m=` line without the `m=` prefix, e.g. `video 0 RTP/AVP 96`. */
  media: string;
  /** The publisher's control attribute (may be relative, absolute, or absent). */
  control: string | undefined;
  /** All other lines of the section (attributes, bandwidth, connection). */
  lines: string[];
}

export interface Sdp {
  session: string[];
  medias: SdpMedia[];
}

export function parseSdp(text: string): Sdp {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') throw new CarewatchError('RTSP_BAD_SDP', 'SDP must start with v=0');
  const session: string[] = [];
  const medias: SdpMedia[] = [];
  for (const line of lines) {
    if (!/^[a-z]=/.test(line)) throw new CarewatchError('RTSP_BAD_SDP', `bad SDP line: ${line.slice(0, 80)}`);
    if (line.startsWith('m=')) {
      medias.push({ media: line.slice(2), control: undefined, lines: [] });
      continue;
    }
    const current = medias[medias.length - 1];
    if (!current) {
      session.push(line);
    } else if (line.startsWith('a=control:')) {
      current.control = line.slice('a=control:'.length).trim();
    } else {
      current.lines.push(line);
    }
  }
  if (medias.length === 0) throw new CarewatchError('RTSP_BAD_SDP', 'SDP has no media section');
  return { session, medias };
}

/** The SDP a reader gets: one `trackID=N` control per media, aggregate control `*`. */
export function readerSdp(sdp: Sdp, name: string, sessionVersion: number): string {
  const out: string[] = ['v=0', `o=- ${sessionVersion} ${sessionVersion} IN IP4 127.0.0.1`, `s=${name}`];
  for (const line of sdp.session) {
    if (/^[vos]=/.test(line) || line.startsWith('a=control:') || line.startsWith('a=range:')) continue;
    out.push(line);
  }
  if (!sdp.session.some((l) => l.startsWith('t='))) out.push('t=0 0');
  out.push('a=control:*', 'a=range:npt=0-');
  sdp.medias.forEach((m, i) => {
    out.push(`m=${m.media}`, ...m.lines, `a=control:trackID=${i}`);
  });
  return `${out.join('\r\n')}\r\n`;
}

/**
 * Which media a SETUP URL designates, given the URL the session was announced
 * or described at. Accepts absolute controls, controls relative to the base,
 * and our own `trackID=N` form. Returns -1 when none matches.
 */
export function trackForUrl(sdp: Sdp, base: string, setupUrl: string, ownControls: boolean): number {
  const baseNoSlash = base.replace(/\/+$/, '');
  const url = setupUrl.replace(/\/+$/, '');
  for (let i = 0; i < sdp.medias.length; i++) {
    const control = ownControls ? `trackID=${i}` : sdp.medias[i]?.control;
    if (control === undefined || control === '*') continue;
    if (/^rtsps?:\/\//i.test(control)) {
      if (sameUrl(control, url)) return i;
      continue;
    }
    if (sameUrl(`${baseNoSlash}/${control}`, url)) return i;
    // Lenient: clients that rebuild the URL with another host spelling.
    if (url.endsWith(`/${control}`)) return i;
  }
  // A single-media session may be SET UP at its aggregate URL.
  if (sdp.medias.length === 1 && sameUrl(baseNoSlash, url)) return 0;
  return -1;
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}
