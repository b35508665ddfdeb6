/**
 * The RTSP relay with scripted publishers and readers (no ffmpeg): status codes
 * before a publisher exists, SDP relay with rewritten controls, packet relay to
 * several readers (TCP interleaved and UDP), TEARDOWN and socket-end cleanup,
 * and a slow reader that is dropped without holding back the others.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, test } from 'vitest';
import { RtspServer, type RtspServerOptions } from '../../../simulators/rtsp/server.js';
import { play, publish, TestRtspClient, until } from './client.js';

let server: RtspServer | undefined;
const clients: TestRtspClient[] = [];

async function start(opts: RtspServerOptions = {}): Promise<RtspServer> {
  server = new RtspServer({ port: 0, ...opts });
  await server.start();
  return server;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

const track = (c: TestRtspClient) => {
  clients.push(c);
  return c;
};
const packet = (i: number, size = 200) => {
  const b = Buffer.alloc(size, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
};

describe('RTSP server', () => {
  test('readers get 404 for unknown paths and 503 for declared paths without a publisher', async () => {
    const s = await start();
    s.declarePath('cam1');
    const c = track(await TestRtspClient.connect(s.port));
    expect((await c.request('OPTIONS', s.url('cam1'))).headers.public).toContain('DESCRIBE');
    expect((await c.request('DESCRIBE', s.url('nope'))).status).toBe(404);
    expect((await c.request('DESCRIBE', s.url('cam1'))).status).toBe(503);
    expect(
      (
        await c.request('SETUP', `${s.url('cam1')}/trackID=0`, {
          Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
        })
      ).status,
    ).toBe(503);
    expect((await c.request('FLY', s.url('cam1'))).status).toBe(501);
  });

  test('the publisher SDP is relayed with trackID controls; packets reach every reader', async () => {
    const s = await start();
    const pub = track(await publish(s.port, 'cam1'));
    const a = await play(s.port, 'cam1');
    const b = await play(s.port, 'cam1', '4-5');
    track(a.client);
    track(b.client);
    expect(a.describe.headers['content-base']).toBe(`${s.url('cam1')}/`);
    expect(a.describe.headers['content-type']).toBe('application/sdp');
    expect(a.describe.body).toContain('a=control:trackID=0');
    expect(a.describe.body).toContain('a=rtpmap:96 H264/90000');
    expect(a.describe.body).not.toContain('streamid=0');
    for (let i = 0; i < 50; i++) pub.sendFrame(i % 10 === 9 ? 1 : 0, packet(i));
    await until(() => a.client.frames.length === 50 && b.client.frames.length === 50, 3000, 'all packets');
    expect(a.client.frames.map((f) => f.payload.readUInt32BE(0))).toEqual([...Array(50).keys()]);
    expect(a.client.frames.filter((f) => f.channel === 1)).toHaveLength(5);
    expect(new Set(b.client.frames.map((f) => f.channel))).toEqual(new Set([4, 5]));
    expect(s.stats()[0]).toMatchObject({
      path: '/cam1',
      publishing: true,
      readers: 2,
      packetsIn: 50,
      packetsDropped: 0,
    });
  });

  test('several paths on one port are independent', async () => {
    const s = await start();
    const p1 = track(await publish(s.port, 'cam1'));
    const p2 = track(await publish(s.port, 'cam2'));
    const r1 = track((await play(s.port, 'cam1')).client);
    const r2 = track((await play(s.port, 'cam2')).client);
    p1.sendFrame(0, packet(1));
    p2.sendFrame(0, packet(2));
    p2.sendFrame(0, packet(3));
    await until(() => r1.frames.length === 1 && r2.frames.length === 2);
    expect(r1.frames[0]!.payload.readUInt32BE(0)).toBe(1);
    expect(r2.frames.map((f) => f.payload.readUInt32BE(0))).toEqual([2, 3]);
  });

  test('TEARDOWN answers 200 and closes; a publisher leaving ends its readers', async () => {
    const s = await start();
    const pub = track(await publish(s.port, 'cam1'));
    const r1 = track((await play(s.port, 'cam1')).client);
    const r2 = track((await play(s.port, 'cam1')).client);
    const td = await r1.request('TEARDOWN', s.url('cam1'));
    expect(td.status).toBe(200);
    await r1.whenClosed();
    await until(() => s.stats()[0]?.readers === 1);
    expect((await r2.request('GET_PARAMETER', s.url('cam1'))).status).toBe(200);
    expect((await r2.request('PLAY', s.url('cam1'), { Session: 'BOGUS' })).status).toBe(454);
    pub.close();
    await r2.whenClosed();
    expect(s.isPublishing('cam1')).toBe(false);
    const late = track(await TestRtspClient.connect(s.port));
    expect((await late.request('DESCRIBE', s.url('cam1'))).status).toBe(503);
  });

  test('a new publisher on a busy path replaces the old one', async () => {
    const s = await start();
    const old = track(await publish(s.port, 'cam1'));
    const fresh = track(await publish(s.port, 'cam1'));
    await old.whenClosed();
    const r = track((await play(s.port, 'cam1')).client);
    fresh.sendFrame(0, packet(7));
    await until(() => r.frames.length === 1);
  });

  test('UDP readers get RTP on their client port', async () => {
    const s = await start();
    const pub = track(await publish(s.port, 'cam1'));
    const rtp = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    rtp.on('message', (m) => got.push(m));
    await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', () => r()));
    try {
      const c = track(await TestRtspClient.connect(s.port));
      const d = await c.request('DESCRIBE', s.url('cam1'));
      const port = rtp.address().port;
      const setup = await c.request('SETUP', `${d.headers['content-base']}trackID=0`, {
        Transport: `RTP/AVP;unicast;client_port=${port}-${port + 1}`,
      });
      expect(setup.status).toBe(200);
      expect(setup.headers.transport).toMatch(
        new RegExp(`client_port=${port}-${port + 1};server_port=\\d+-\\d+`),
      );
      expect((await c.request('PLAY', s.url('cam1'))).status).toBe(200);
      for (let i = 0; i < 5; i++) pub.sendFrame(0, packet(i));
      await until(() => got.length === 5);
      expect(got.map((b) => b.readUInt32BE(0))).toEqual([0, 1, 2, 3, 4]);
    } finally {
      rtp.close();
    }
  });

  test('a reader that stops reading is dropped, the others get every packet', async () => {
    const s = await start({ maxReaderBufferBytes: 1024 * 1024, slowReaderTimeoutMs: 300 });
    const pub = track(await publish(s.port, 'cam1'));
    const fast = track((await play(s.port, 'cam1')).client);
    const slow = track((await play(s.port, 'cam1')).client);
    slow.socket.pause();
    const size = 1400;
    let sent = 0;
    // Push until the slow reader is disconnected (kernel buffers on loopback hold several MB).
    const deadline = Date.now() + 15_000;
    while (!slow.closed && s.stats()[0]!.readersDisconnectedSlow === 0 && Date.now() < deadline) {
      for (let i = 0; i < 100; i++) pub.sendFrame(0, packet(sent++, size));
      await new Promise((r) => setTimeout(r, 5));
    }
    const st = s.stats()[0]!;
    expect(st.readersDisconnectedSlow).toBe(1);
    expect(st.packetsDropped).toBeGreaterThan(0);
    await until(() => fast.frames.length === sent, 10_000, 'fast reader to get every packet');
    expect(fast.frames.at(-1)!.payload.readUInt32BE(0)).toBe(sent - 1);
    await until(() => s.stats()[0]!.readers === 1);
  }, 30_000);

  test('garbage input gets 400 and a close', async () => {
    const s = await start();
    const c = track(await TestRtspClient.connect(s.port));
    c.socket.write(`${'X'.repeat(20_000)}`);
    await c.whenClosed();
  });
});
