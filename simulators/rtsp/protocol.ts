/**
 * RTSP 1.0 wire format (RFC 2326): requests, responses, interleaved binary frames
 * (`$` + channel + 16-bit length, section 10.12) and the Transport header.
 */
import { CarewatchError } from '../../lib/errors.js';

export interface RtspRequest {
  method: string;
  uri: string;
  version: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface InterleavedFrame {
  channel: number;
  payload: Buffer;
}

export type RtspMessage =
  | { kind: 'request'; request: RtspRequest }
  | { kind: 'frame'; frame: InterleavedFrame };

/** Largest header block accepted before the connection is considered hostile. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Largest request body (an SDP) accepted. */
export const MAX_BODY_BYTES = 256 * 1024;

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Incremental splitter for one TCP connection: RTSP requests and interleaved
 * frames may alternate freely on the same byte stream.
 */
export class RtspStreamParser {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the complete messages found. Throws `RTSP_BAD_MESSAGE`. */
  push(chunk: Buffer): RtspMessage[] {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: RtspMessage[] = [];
    let off = 0;
    while (off < buf.length) {
      if (buf[off] === 0x24) {
        if (buf.length - off < 4) break;
        const channel = buf[off + 1] as number;
        const len = buf.readUInt16BE(off + 2);
        if (buf.length - off < 4 + len) break;
        out.push({ kind: 'frame', frame: { channel, payload: buf.subarray(off + 4, off + 4 + len) } });
        off += 4 + len;
        continue;
      }
      const end = buf.indexOf(CRLFCRLF, off);
      if (end < 0) {
        if (buf.length - off > MAX_HEADER_BYTES) {
          throw new CarewatchError('RTSP_BAD_MESSAGE', 'RTSP header block too large');
        }
        break;
      }
      const head = parseHead(buf.subarray(off, end).toString('latin1'));
      const bodyLen = Number(head.headers['content-length'] ?? '0');
      if (!Number.isInteger(bodyLen) || bodyLen < 0 || bodyLen > MAX_BODY_BYTES) {
        throw new CarewatchError('RTSP_BAD_MESSAGE', `bad Content-Length ${head.headers['content-length']}`);
      }
      const bodyStart = end + 4;
      if (buf.length - bodyStart < bodyLen) break;
      out.push({
        kind: 'request',
        request: { ...head, body: Buffer.from(buf.subarray(bodyStart, bodyStart + bodyLen)) },
      });
      off = bodyStart + bodyLen;
    }
    // Copy the remainder so that the (possibly large) chunk it came from can be released.
    this.pending = off >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
    return out;
  }
}

function parseHead(text: string): Omit<RtspRequest, 'body'> {
  const lines = text.split('\r\n');
  // Tolerate stray blank lines between messages.
  while (lines.length > 0 && lines[0] === '') lines.shift();
  const first = lines.shift() ?? '';
  const m = /^([A-Z_]+) (\S+) (RTSP\/\d\.\d)$/.exec(first);
  if (!m) throw new CarewatchError('RTSP_BAD_MESSAGE', `bad RTSP request line: ${first.slice(0, 80)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) throw new CarewatchError('RTSP_BAD_MESSAGE', `bad RTSP header line: ${line.slice(0, 80)}`);
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { method: m[1] as string, uri: m[2] as string, version: m[3] as string, headers };
}

export const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Serialises a response; CSeq is copied from the request when there is one. */
export function formatResponse(
  status: number,
  cseq: string | undefined,
  headers: Record<string, string> = {},
  body?: string,
): Buffer {
  const lines = [`RTSP/1.0 ${status} ${STATUS_TEXT[status] ?? 'Unknown'}`];
  if (cseq !== undefined) lines.push(`CSeq: ${cseq}`);
  lines.push('Server: carewatch-sim-rtsp');
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  const bodyBuf = body === undefined ? undefined : Buffer.from(body, 'utf8');
  if (bodyBuf) lines.push(`Content-Length: ${bodyBuf.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return bodyBuf ? Buffer.concat([head, bodyBuf]) : head;
}

/** The 4-byte interleaved frame header. */
export function frameHeader(channel: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(4);
  h[0] = 0x24;
  h[1] = channel & 0xff;
  h.writeUInt16BE(length, 2);
  return h;
}

export interface TransportSpec {
  /** `RTP/AVP/TCP` (interleaved) or `RTP/AVP` / `RTP/AVP/UDP` (UDP). */
  lower: 'tcp' | 'udp';
  interleaved?: [number, number];
  clientPort?: [number, number];
  mode?: string;
  multicast: boolean;
  raw: string;
}

/**
 * Parses a Transport header and returns the first alternative that this
 * server supports, or undefined when none is.
 */
export function parseTransport(header: string | undefined): TransportSpec | undefined {
  if (!header) return undefined;
  for (const alt of header.split(',')) {
    const parts = alt.trim().split(';');
    const proto = (parts.shift() ?? '').toUpperCase();
    let lower: 'tcp' | 'udp';
    if (proto === 'RTP/AVP/TCP') lower = 'tcp';
    else if (proto === 'RTP/AVP' || proto === 'RTP/AVP/UDP') lower = 'udp';
    else continue;
    const spec: TransportSpec = { lower, multicast: false, raw: alt.trim() };
    for (const p of parts) {
      const [k, v] = p.split('=') as [string, string | undefined];
      const key = k.trim().toLowerCase();
      if (key === 'multicast') spec.multicast = true;
      else if (key === 'interleaved' && v) spec.interleaved = parseRange(v);
      else if (key === 'client_port' && v) spec.clientPort = parseRange(v);
      else if (key === 'mode' && v) spec.mode = v.replace(/"/g, '').toLowerCase();
    }
    if (spec.multicast) continue;
    return spec;
  }
  return undefined;
}

function parseRange(v: string): [number, number] | undefined {
  const [a, b] = v.split('-').map((x) => Number(x));
  if (a === undefined || !Number.isInteger(a) || a < 0 || a > 65535) return undefined;
  const second = b !== undefined && Number.isInteger(b) ? b : a + 1;
  return [a, second];
}

/** Path part of an RTSP URL (`rtsp://h:p/cam1/trackID=0?x` → `/cam1/trackID=0`). */
export function urlPath(uri: string): string {
  if (uri === '*') return '*';
  const m = /^rtsps?:\/\/[^/]*(\/[^?#]*)?/i.exec(uri);
  const p = m ? (m[1] ?? '/') : (uri.split(/[?#]/)[0] ?? '/');
  const trimmed = p.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}
