/** RTSP wire format and SDP rewriting, including a property test over arbitrary TCP chunking. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  formatResponse,
  parseTransport,
  RtspStreamParser,
  urlPath,
} from '../../../simulators/rtsp/protocol.js';
import { parseSdp, readerSdp, trackForUrl } from '../../../simulators/rtsp/sdp.js';
import { SDP } from './client.js';

const req = (method: string, uri: string, headers: string[] = [], body = '') =>
  Buffer.from(
    `${method} ${uri} RTSP/1.0\r\nCSeq: 1\r\n${headers.map((h) => `${h}\r\n`).join('')}${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`,
  );
const frame = (channel: number, payload: Buffer) =>
  Buffer.concat([Buffer.from([0x24, channel, payload.length >> 8, payload.length & 0xff]), payload]);

describe('RTSP stream parser', () => {
  test('requests with bodies and interleaved frames, in one chunk', () => {
    const p = new RtspStreamParser();
    const msgs = p.push(
      Buffer.concat([
        req('ANNOUNCE', 'rtsp://h/cam1', ['Content-Type: application/sdp'], SDP),
        frame(0, Buffer.from('abc')),
        req('OPTIONS', '*'),
      ]),
    );
    expect(msgs.map((m) => m.kind)).toEqual(['request', 'frame', 'request']);
    const first = msgs[0]!;
    if (first.kind !== 'request') throw new Error('kind');
    expect(first.request).toMatchObject({
      method: 'ANNOUNCE',
      uri: 'rtsp://h/cam1',
      headers: { cseq: '1', 'content-type': 'application/sdp' },
    });
    expect(first.request.body.toString()).toBe(SDP);
  });

  test('any split of the byte stream yields the same messages', () => {
    const payloads = fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), {
      minLength: 1,
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        payloads,
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
        (ps, cuts) => {
          const parts: Buffer[] = [
            req('SETUP', 'rtsp://h/x/streamid=0', ['Transport: RTP/AVP/TCP;interleaved=0-1']),
          ];
          ps.forEach((p, i) => {
            parts.push(frame(i % 2, Buffer.from(p)));
          });
          parts.push(req('TEARDOWN', 'rtsp://h/x', [], 'bye'));
          const all = Buffer.concat(parts);
          const parser = new RtspStreamParser();
          const got = [];
          let off = 0;
          let k = 0;
          while (off < all.length) {
            const n = cuts[k++ % cuts.length] as number;
            got.push(...parser.push(all.subarray(off, off + n)));
            off += n;
          }
          expect(got).toHaveLength(ps.length + 2);
          got.slice(1, -1).forEach((m, i) => {
            if (m.kind !== 'frame') throw new Error('expected a frame');
            expect(m.frame.channel).toBe(i % 2);
            expect(Buffer.compare(m.frame.payload, Buffer.from(ps[i]!))).toBe(0);
          });
          const last = got.at(-1)!;
          expect(
            last.kind === 'request' &&
              last.request.method === 'TEARDOWN' &&
              last.request.body.toString() === 'bye',
          ).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('bad input is refused with a coded error', () => {
    expect(() => new RtspStreamParser().push(Buffer.from('HELLO\r\n\r\n'))).toThrow(/bad RTSP request line/);
    expect(() => new RtspStreamParser().push(Buffer.alloc(20_000, 0x41))).toThrow(/too large/);
    expect(() => new RtspStreamParser().push(req('ANNOUNCE', 'rtsp://h/x', ['Content-Length: -3']))).toThrow(
      /Content-Length/,
    );
  });

  test('responses, transports and URL paths', () => {
    expect(formatResponse(200, '4', { Session: 'AB' }, 'x').toString()).toBe(
      'RTSP/1.0 200 OK\r\nCSeq: 4\r\nServer: carewatch-sim-rtsp\r\nSession: AB\r\nContent-Length: 1\r\n\r\nx',
    );
    expect(parseTransport('RTP/AVP/TCP;unicast;interleaved=2-3;mode=record')).toMatchObject({
      lower: 'tcp',
      interleaved: [2, 3],
      mode: 'record',
    });
    expect(parseTransport('RTP/AVP;multicast,RTP/AVP;unicast;client_port=5000-5001')).toMatchObject({
      lower: 'udp',
      clientPort: [5000, 5001],
    });
    expect(parseTransport('RAW/RAW/UDP;unicast')).toBeUndefined();
    expect(urlPath('rtsp://127.0.0.1:8554/cam1/trackID=0?x=1')).toBe('/cam1/trackID=0');
    expect(urlPath('rtsp://127.0.0.1:8554/cam1/')).toBe('/cam1');
    expect(urlPath('rtsp://127.0.0.1:8554')).toBe('/');
  });
});

describe('SDP', () => {
  test('reader SDP keeps the media description and uses trackID controls', () => {
    const sdp = parseSdp(SDP);
    expect(sdp.medias[0]!.control).toBe('streamid=0');
    const out = readerSdp(sdp, 'cam1', 7);
    expect(out).toMatch(/^v=0\r\no=- 7 7 IN IP4 127\.0\.0\.1\r\ns=cam1\r\n/);
    expect(out).toContain('a=control:*\r\n');
    expect(out).toContain(
      'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:trackID=0\r\n',
    );
    expect(out).not.toContain('streamid');
  });

  test('SETUP URLs resolve to tracks (publisher controls and our own)', () => {
    const sdp = parseSdp(SDP);
    expect(trackForUrl(sdp, 'rtsp://h:1/cam1', 'rtsp://h:1/cam1/streamid=0', false)).toBe(0);
    expect(trackForUrl(sdp, 'rtsp://h:1/cam1', 'rtsp://h:1/cam1/trackID=0', true)).toBe(0);
    expect(trackForUrl(sdp, 'rtsp://h:1/cam1', 'rtsp://h:1/cam1', true)).toBe(0);
    expect(trackForUrl(sdp, 'rtsp://h:1/cam1', 'rtsp://h:1/cam1/trackID=3', true)).toBe(-1);
    expect(() => parseSdp('x=1')).toThrow(/v=0/);
    expect(() => parseSdp('v=0\r\ns=x\r\n')).toThrow(/no media/);
  });
});
