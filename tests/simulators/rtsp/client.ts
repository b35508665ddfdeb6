/** A minimal RTSP client for the RTSP server tests: requests, responses, interleaved frames. */
import net from 'node:net';

export interface Response {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class TestRtspClient {
  readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  private cseq = 0;
  private waiting: Array<(r: Response) => void> = [];
  readonly frames: Array<{ channel: number; payload: Buffer }> = [];
  closed = false;
  session: string | undefined;
  private readonly closedP: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => {});
    this.closedP = new Promise((r) =>
      socket.on('close', () => {
        this.closed = true;
        r();
      }),
    );
  }

  static connect(port: number): Promise<TestRtspClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new TestRtspClient(s)));
      s.once('error', reject);
    });
  }

  whenClosed(timeoutMs = 5000): Promise<void> {
    return Promise.race([
      this.closedP,
      new Promise<void>((_, rej) => setTimeout(() => rej(new Error('socket not closed')), timeoutMs)),
    ]);
  }

  request(
    method: string,
    uri: string,
    headers: Record<string, string> = {},
    body?: string,
    timeoutMs = 3000,
  ): Promise<Response> {
    const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${++this.cseq}`];
    if (this.session && !headers.Session) lines.push(`Session: ${this.session}`);
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no response`)), timeoutMs);
      this.waiting.push((r) => {
        clearTimeout(timer);
        const s = r.headers.session?.split(';')[0];
        if (s) this.session = s;
        resolve(r);
      });
    });
  }

  sendFrame(channel: number, payload: Buffer): boolean {
    const h = Buffer.from([0x24, channel, 0, 0]);
    h.writeUInt16BE(payload.length, 2);
    return this.socket.write(Buffer.concat([h, payload]));
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length === 0) return;
      if (this.buf[0] === 0x24) {
        if (this.buf.length < 4) return;
        const len = this.buf.readUInt16BE(2);
        if (this.buf.length < 4 + len) return;
        this.frames.push({ channel: this.buf[1]!, payload: Buffer.from(this.buf.subarray(4, 4 + len)) });
        this.buf = this.buf.subarray(4 + len);
        continue;
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [first, ...rest] = this.buf.subarray(0, end).toString().split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of rest) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const len = Number(headers['content-length'] ?? 0);
      if (this.buf.length < end + 4 + len) return;
      const body = this.buf.subarray(end + 4, end + 4 + len).toString();
      this.buf = this.buf.subarray(end + 4 + len);
      const status = Number(/^RTSP\/1\.0 (\d{3})/.exec(first ?? '')?.[1] ?? 0);
      this.waiting.shift()?.({ status, headers, body });
    }
  }
}

export const SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=No Name',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'a=tool:libavformat 59.27.100',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1',
  'a=control:streamid=0',
  '',
].join('\r\n');

/** ANNOUNCE + SETUP (interleaved 0-1, record) + RECORD, like ffmpeg's RTSP muxer. */
export async function publish(port: number, path: string): Promise<TestRtspClient> {
  const c = await TestRtspClient.connect(port);
  const url = `rtsp://127.0.0.1:${port}/${path}`;
  const a = await c.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, SDP);
  if (a.status !== 200) throw new Error(`ANNOUNCE ${a.status}`);
  const s = await c.request('SETUP', `${url}/streamid=0`, {
    Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
  });
  if (s.status !== 200) throw new Error(`SETUP ${s.status}`);
  const r = await c.request('RECORD', url, { Range: 'npt=0.000-' });
  if (r.status !== 200) throw new Error(`RECORD ${r.status}`);
  return c;
}

/** DESCRIBE + SETUP + PLAY over TCP interleaved; returns the client and the DESCRIBE response. */
export async function play(
  port: number,
  path: string,
  interleaved = '0-1',
): Promise<{ client: TestRtspClient; describe: Response }> {
  const c = await TestRtspClient.connect(port);
  const url = `rtsp://127.0.0.1:${port}/${path}`;
  const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
  if (d.status !== 200) throw new Error(`DESCRIBE ${d.status}`);
  const s = await c.request('SETUP', `${d.headers['content-base']}trackID=0`, {
    Transport: `RTP/AVP/TCP;unicast;interleaved=${interleaved}`,
  });
  if (s.status !== 200) throw new Error(`SETUP ${s.status}`);
  const p = await c.request('PLAY', url, { Range: 'npt=0.000-' });
  if (p.status !== 200) throw new Error(`PLAY ${p.status}`);
  return { client: c, describe: d };
}

export async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
