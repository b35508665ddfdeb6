import { afterEach, describe, expect, it } from 'vitest';
import { buildFrame } from '../../../../gateway/adapters/dc09/frame.js';
import {
  Dc09Receiver,
  type Dc09ReceiverOptions,
  type PanelMessage,
} from '../../../../gateway/adapters/dc09/receiver.js';
import { parseReply } from '../../../../gateway/adapters/dc09/reply.js';
import { ManualClock } from '../../../../lib/clock.js';
import { Dc09Dialler, type DiallerOptions } from '../../../../simulators/dc09/dialler.js';
import { deferred, RawClient, sleep } from './helpers.js';

const KEY = '2B7E151628AED2A6ABF7158809CF4F3C';
let receiver: Dc09Receiver | undefined;
const diallers: Dc09Dialler[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const d of diallers.splice(0)) await d.close();
  await receiver?.stop();
  receiver = undefined;
});

async function start(over: Partial<Dc09ReceiverOptions> = {}) {
  const got: PanelMessage[] = [];
  const r = new Dc09Receiver({
    host: '127.0.0.1',
    tcpPort: 0,
    udpPort: 0,
    accounts: [{ account: '1234' }, { account: 'BEEF', key: KEY }],
    sink: async (m) => {
      got.push(m);
    },
    ...over,
  });
  await r.start();
  receiver = r;
  return { r, got };
}

function dialler(r: Dc09Receiver, over: Partial<DiallerOptions> = {}): Dc09Dialler {
  const proto = over.proto ?? 'tcp';
  const d = new Dc09Dialler({
    host: '127.0.0.1',
    port: (proto === 'tcp' ? r.tcpPort : r.udpPort) ?? 0,
    proto,
    account: '1234',
    format: 'cid',
    timeoutMs: 1500,
    ...over,
  });
  diallers.push(d);
  return d;
}

async function raw(r: Dc09Receiver): Promise<RawClient> {
  const c = await RawClient.connect(r.tcpPort ?? 0);
  clients.push(c);
  return c;
}

describe('Dc09Receiver over TCP and UDP', () => {
  it('binds both transports on port 0 and exposes the ports', async () => {
    const { r } = await start();
    expect(r.tcpPort).toBeGreaterThan(0);
    expect(r.udpPort).toBeGreaterThan(0);
  });

  it('sends the ACK only after the sink has resolved (TCP)', async () => {
    const gate = deferred();
    const got: PanelMessage[] = [];
    const { r } = await start({
      sink: async (m) => {
        got.push(m);
        await gate.promise;
      },
    });
    const c = await raw(r);
    c.write(
      buildFrame({
        id: 'ADM-CID',
        seq: 17,
        receiver: '2',
        prefix: '3',
        account: '1234',
        data: '#1234|1110 01 015',
      }),
    );
    expect(await c.until(() => got.length === 1)).toBe(true);
    await sleep(150);
    expect(c.frames).toEqual([]); // sink still pending: no ACK yet
    gate.resolve();
    expect(await c.until(() => c.frames.length === 1)).toBe(true);
    const reply = parseReply(c.frames[0] ?? '');
    expect(reply).toMatchObject({
      ok: true,
      reply: { type: 'ACK', seq: '0017', receiver: '2', prefix: '3', account: '1234' },
    });
    expect(got[0]).toMatchObject({
      account: '1234',
      format: 'ADM-CID',
      transport: 'tcp',
      seq: '0017',
      events: [{ category: 'fire', code: '110', qualifier: 'new', zone: 15, partition: 1 }],
    });
    expect(r.stats().counters.ACCEPTED).toBe(1);
  });

  it('accepts encrypted SIA-DCS over UDP and answers with an encrypted ACK', async () => {
    const { r, got } = await start();
    const d = dialler(r, { proto: 'udp', account: 'BEEF', key: KEY, format: 'sia' });
    const res = await d.sendEvent({ code: 'medical', zone: 4, partition: 2 });
    expect(res.type).toBe('ACK');
    expect(res.type === 'ACK' && res.reply.encrypted).toBe(true);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      transport: 'udp',
      encrypted: true,
      format: 'SIA-DCS',
      events: [{ category: 'medical', code: 'MA', zone: 4, partition: 2 }],
    });
  });

  it('NAKs a stale timestamp with the receiver time; the dialler resyncs and is ACKed', async () => {
    const { r, got } = await start();
    const d = dialler(r, { account: 'BEEF', key: KEY, clockOffsetMs: -120_000 });
    const first = await d.sendEvent({ code: 'fire', zone: 1 });
    expect(first.type).toBe('NAK');
    if (first.type === 'NAK')
      expect(Math.abs((first.reply.timestampMs ?? 0) - Date.now())).toBeLessThan(2000);
    expect(got).toHaveLength(0);
    expect(r.stats().counters.DC09_TIMESTAMP_OUT_OF_WINDOW).toBe(1);
    const second = await d.sendEvent({ code: 'fire', zone: 1 });
    expect(second.type).toBe('ACK');
    expect(got).toHaveLength(1);
  });

  it('answers DUH to an unknown account and does not call the sink', async () => {
    const { r, got } = await start();
    const res = await dialler(r, { account: '9999' }).sendEvent({ code: 'fire', zone: 1 });
    expect(res.type).toBe('DUH');
    expect(res.type === 'DUH' && res.reply).toMatchObject({ seq: '0001', account: '9999' });
    expect(got).toHaveLength(0);
    expect(r.stats().counters.DC09_UNKNOWN_ACCOUNT).toBe(1);
  });

  it('ACKs a replayed message again without calling the sink twice (TCP and UDP)', async () => {
    const { r, got } = await start();
    const frame = buildFrame({
      id: 'SIA-DCS',
      seq: 5,
      account: '1234',
      data: '#1234|Nri1/BA003',
      timestamp: Date.now(),
    });
    const tcp = dialler(r);
    expect((await tcp.sendFrame(frame)).type).toBe('ACK');
    expect((await tcp.sendFrame(frame)).type).toBe('ACK');
    const udp = dialler(r, { proto: 'udp' });
    expect((await udp.sendFrame(frame)).type).toBe('ACK');
    expect(got).toHaveLength(1);
    expect(r.stats().counters.DUPLICATE).toBe(2);
  });

  it('forgets remembered messages once they expire, oldest first, and still knows the live ones', async () => {
    const clock = new ManualClock(Date.now());
    const { r, got } = await start({ clock, dedupTtlMs: 60_000 });
    const d = dialler(r);
    const frame = (seq: number) =>
      buildFrame({
        id: 'SIA-DCS',
        seq,
        account: '1234',
        data: `#1234|Nri1/BA${seq}`,
        timestamp: clock.now(),
      });
    for (let seq = 1; seq <= 1100; seq++) expect((await d.sendFrame(frame(seq))).type).toBe('ACK');
    const remembered = () => (r as unknown as { done: Map<string, number> }).done.size;
    expect(remembered()).toBe(1100);
    clock.advance(30_000);
    const late = frame(2000);
    expect((await d.sendFrame(late)).type).toBe('ACK');
    clock.advance(31_000);
    // the first 1100 have expired, the late one has not
    expect((await d.sendFrame(frame(2001))).type).toBe('ACK');
    expect(remembered()).toBe(2);
    expect((await d.sendFrame(late)).type).toBe('ACK');
    expect(got).toHaveLength(1102);
    expect(r.stats().counters.DUPLICATE).toBe(1);
  }, 60_000);

  it('a replay that arrives while the first copy is still in the sink waits for it', async () => {
    const gate = deferred();
    let calls = 0;
    const { r } = await start({
      sink: async () => {
        calls++;
        await gate.promise;
      },
    });
    const frame = buildFrame({ id: 'ADM-CID', seq: 9, account: '1234', data: '1130 01 004' });
    const a = dialler(r, { proto: 'udp' });
    const b = dialler(r, { proto: 'udp' });
    const pa = a.sendFrame(frame);
    await sleep(50);
    const pb = b.sendFrame(frame);
    await sleep(100);
    gate.resolve();
    expect((await pa).type).toBe('ACK');
    expect((await pb).type).toBe('ACK');
    expect(calls).toBe(1);
  });

  it('sends nothing when the sink fails, so the panel retries; the retry is stored', async () => {
    let fail = true;
    const got: PanelMessage[] = [];
    const { r } = await start({
      sink: async (m) => {
        if (fail) throw new Error('disk full');
        got.push(m);
      },
    });
    const d = dialler(r, { timeoutMs: 400 });
    const frame = d.frameFor('ADM-CID', '#1234|1121 01 002', '0003');
    expect((await d.sendFrame(frame)).type).toBe('TIMEOUT');
    expect(r.stats().counters.DC09_SINK_FAILED).toBe(1);
    fail = false;
    expect((await d.sendFrame(frame)).type).toBe('ACK');
    expect(got).toHaveLength(1);
    expect(got[0]?.events[0]?.category).toBe('duress');
  });

  it('treats a sink that hangs past sinkTimeoutMs as failed', async () => {
    const { r } = await start({ sink: () => new Promise(() => {}), sinkTimeoutMs: 200 });
    const res = await dialler(r, { timeoutMs: 600 }).sendEvent({ code: 'panic', zone: 1 });
    expect(res.type).toBe('TIMEOUT');
    expect(r.stats().counters.DC09_SINK_FAILED).toBe(1);
  });

  it('NULL heartbeats are ACKed, reported, and never reach the sink', async () => {
    const beats: string[] = [];
    const { r, got } = await start({ onHeartbeat: (a) => beats.push(a) });
    expect((await dialler(r).heartbeat()).type).toBe('ACK');
    expect((await dialler(r, { proto: 'udp', account: 'BEEF', key: KEY }).heartbeat()).type).toBe('ACK');
    expect(beats).toEqual(['1234', 'BEEF']);
    expect(got).toHaveLength(0);
    expect(r.stats().counters.HEARTBEAT).toBe(2);
  });

  it('reassembles frames split across TCP chunks and answers each of several in one chunk', async () => {
    const { r, got } = await start();
    const c = await raw(r);
    const f1 = buildFrame({ id: 'ADM-CID', seq: 1, account: '1234', data: '1110 01 001' });
    const f2 = buildFrame({ id: 'ADM-CID', seq: 2, account: '1234', data: '3110 01 001' });
    for (let i = 0; i < f1.length; i += 7) {
      c.write(f1.slice(i, i + 7));
      await sleep(5);
    }
    expect(await c.until(() => c.frames.length === 1)).toBe(true);
    c.write(f2 + buildFrame({ id: 'NULL', seq: 3, account: '1234' }));
    expect(await c.until(() => c.frames.length === 3)).toBe(true);
    expect(
      c.frames.map((f) => (parseReply(f).ok ? (parseReply(f) as { reply: { seq: string } }).reply.seq : '?')),
    ).toEqual(['0001', '0002', '0003']);
    expect(got.map((m) => m.events[0]?.qualifier)).toEqual(['new', 'restore']);
  });

  it('counts garbage and corrupted frames without answering them', async () => {
    const { r, got } = await start();
    const c = await raw(r);
    const good = buildFrame({ id: 'ADM-CID', seq: 4, account: '1234', data: '1110 01 001' });
    c.write('GET / HTTP/1.1\r\n\r\n');
    c.write(`${good.slice(0, 20)}X${good.slice(21)}`); // one byte changed: bad CRC
    c.write('\n0000000A"NULL"\r'); // wrong length
    c.write(good);
    expect(await c.until(() => c.frames.length === 1)).toBe(true);
    await sleep(100);
    expect(c.frames).toHaveLength(1);
    expect(got).toHaveLength(1);
    const { counters } = r.stats();
    expect(counters.DC09_MALFORMED).toBeGreaterThanOrEqual(1);
    expect(counters.DC09_BAD_CRC).toBe(1);
    expect(counters.DC09_BAD_LENGTH).toBe(1);
    expect(c.closed).toBe(false);
  });

  it('closes a connection that streams past the frame size limit', async () => {
    const { r } = await start({ maxFrameBytes: 256 });
    const c = await raw(r);
    c.write(`\n${'A'.repeat(300)}`);
    expect(await c.until(() => c.closed)).toBe(true);
    expect(r.stats().counters.DC09_OVERSIZE).toBe(1);
  });

  it('drops oversized UDP datagrams', async () => {
    const { r, got } = await start({ maxFrameBytes: 64 });
    const res = await dialler(r, { proto: 'udp', timeoutMs: 300 }).sendEvent({ code: 'fire', zone: 1 });
    expect(res.type).toBe('TIMEOUT');
    expect(got).toHaveLength(0);
    expect(r.stats().counters.DC09_OVERSIZE).toBe(1);
  });

  it('closes a slow-loris connection that never completes its frame', async () => {
    const { r } = await start({ frameTimeoutMs: 300, idleTimeoutMs: 5000 });
    const c = await raw(r);
    const frame = buildFrame({ id: 'NULL', seq: 1, account: '1234' });
    const started = Date.now();
    for (let i = 0; i < frame.length - 1 && !c.closed; i++) {
      c.write(frame[i] ?? '');
      await sleep(60);
    }
    expect(c.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(c.frames).toEqual([]);
    expect(r.stats().counters.DC09_FRAME_TIMEOUT).toBe(1);
  });

  it('closes an idle connection', async () => {
    const { r } = await start({ idleTimeoutMs: 200 });
    const c = await raw(r);
    expect(await c.until(() => c.closed, 2000)).toBe(true);
    expect(r.stats().counters.DC09_IDLE_TIMEOUT).toBe(1);
    expect(await c.until(() => r.stats().connections === 0)).toBe(true);
  });

  it('answers DUH to an alarm whose data it cannot read', async () => {
    const { r, got } = await start();
    const res = await dialler(r).sendFrame(
      buildFrame({ id: 'ADM-CID', seq: 8, account: '1234', data: '#1234|9999 99' }),
    );
    expect(res.type).toBe('DUH');
    expect(got).toHaveLength(0);
    expect(r.stats().counters.DC09_BAD_DATA).toBe(1);
  });

  it('enforces a configured receiver number / line prefix per account', async () => {
    const { r } = await start({ accounts: [{ account: '1234', receiver: '1', prefix: '2' }] });
    expect((await dialler(r, { receiver: '1', prefix: '2' }).heartbeat()).type).toBe('ACK');
    expect((await dialler(r, { receiver: '1', prefix: '3' }).heartbeat()).type).toBe('DUH');
  });
});
