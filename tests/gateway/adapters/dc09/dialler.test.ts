import { afterEach, describe, expect, it } from 'vitest';
import { Dc09Receiver, type PanelMessage } from '../../../../gateway/adapters/dc09/receiver.js';
import { parseScript, runDialler } from '../../../../simulators/dc09/dialler.js';

const KEY = '000102030405060708090A0B0C0D0E0F1011121314151617';
let receiver: Dc09Receiver | undefined;

afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

async function start() {
  const got: PanelMessage[] = [];
  const beats: string[] = [];
  receiver = new Dc09Receiver({
    host: '127.0.0.1',
    accounts: [{ account: '1234' }, { account: 'C0FFEE', key: KEY }],
    sink: async (m) => {
      got.push(m);
    },
    onHeartbeat: (a) => beats.push(a),
  });
  await receiver.start();
  return { r: receiver, got, beats };
}

describe('DC-09 dialler simulator', () => {
  it('parses scripts into steps', () => {
    expect(
      parseScript('fire:3; restore:3; heartbeat; sleep:5; cid:3130:02:004; sia:BA005; open:7; restore'),
    ).toEqual([
      { kind: 'event', event: { code: 'fire', zone: 3 }, label: 'fire:3' },
      { kind: 'event', event: { code: 'fire', qualifier: 'restore', zone: 3 }, label: 'restore:3' },
      { kind: 'heartbeat', label: 'heartbeat' },
      { kind: 'sleep', ms: 5, label: 'sleep:5' },
      {
        kind: 'event',
        event: { code: '130', qualifier: 'restore', partition: 2, zone: 4 },
        label: 'cid:3130:02:004',
      },
      { kind: 'event', event: { code: 'BA', zone: 5 }, label: 'sia:BA005' },
      { kind: 'event', event: { code: 'open', user: 7 }, label: 'open:7' },
      { kind: 'event', event: { code: 'fire', qualifier: 'restore', zone: 1 }, label: 'restore' },
    ]);
    expect(() => parseScript('explode:1')).toThrow(expect.objectContaining({ code: 'DC09_SCRIPT' }));
    expect(() => parseScript('fire:x')).toThrow(/zone must be a number/);
  });

  it.each([
    ['tcp', 'cid', undefined],
    ['udp', 'sia', undefined],
    ['tcp', 'sia', KEY],
    ['udp', 'cid', KEY],
  ] as const)('runs a script over %s as %s (key: %s)', async (proto, format, key) => {
    const { r, got, beats } = await start();
    const lines: string[] = [];
    const account = key ? 'C0FFEE' : '1234';
    const port = String(proto === 'tcp' ? r.tcpPort : r.udpPort);
    const argv = [
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '--account',
      account,
      '--proto',
      proto,
      '--format',
      format,
    ];
    if (key) argv.push('--key', key);
    argv.push('--script', 'fire:1;restore:1;medical:2;close:4;heartbeat');
    const code = await runDialler(argv, (l) => lines.push(l));
    expect(lines).toEqual([
      'fire:1 -> ACK 0001',
      'restore:1 -> ACK 0002',
      'medical:2 -> ACK 0003',
      'close:4 -> ACK 0004',
      'heartbeat -> ACK 0005',
    ]);
    expect(code).toBe(0);
    expect(beats).toEqual([account]);
    expect(
      got.map((m) => [m.events[0]?.category, m.events[0]?.qualifier, m.events[0]?.zone ?? m.events[0]?.user]),
    ).toEqual([
      ['fire', 'new', 1],
      ['fire', 'restore', 1],
      ['medical', 'new', 2],
      ['open_close', 'restore', 4],
    ]);
    expect(got.every((m) => m.encrypted === Boolean(key) && m.transport === proto)).toBe(true);
  });

  it('returns 1 when a step is not ACKed and 2 on bad arguments', async () => {
    const { r } = await start();
    const lines: string[] = [];
    const argv = ['--port', String(r.tcpPort), '--account', '9999', '--script', 'panic:1'];
    expect(await runDialler(argv, (l) => lines.push(l))).toBe(1);
    expect(lines).toEqual(['panic:1 -> DUH 0001']);
    expect(await runDialler(['--account', '1234'], (l) => lines.push(l))).toBe(2);
    expect(lines.at(-1)).toMatch(/--port is required/);
  });
});
