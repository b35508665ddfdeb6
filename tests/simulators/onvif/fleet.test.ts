/**
 * A fleet of three simulated cameras started with `runCameras(argv)`: unicast
 * WS-Discovery on 127.0.0.1 finds all of them with names and zones (parsed
 * with the onvif client's own SOAP parser), ffprobe reads each RTSP stream,
 * and an ffmpeg reader records 3 s with `-c copy` into a playable file.
 */
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '../../../lib/testkit/procs.js';
import { liveFfmpegCount } from '../../../simulators/onvif/ffmpeg.js';
import { type Fleet, runCameras } from '../../../simulators/onvif/fleet.js';
import { call, connectCam, ffprobe, record, type Xml } from './helpers.js';

const require = createRequire(import.meta.url);
const { parseSOAPString, linerase } = require('onvif/lib/utils') as {
  parseSOAPString: (xml: string, cb: (err: Error | null, data: Xml) => void, status: number) => void;
  linerase: (x: unknown) => Xml;
};

const ZONES = ['entrance', 'corridor', 'canteen'];
let fleet: Fleet;
const printed: string[] = [];
const tmp = tempDir('cw-simfleet-');

beforeAll(async () => {
  fleet = await runCameras(
    [
      '--count',
      '3',
      '--zones',
      ZONES.join(','),
      '--rtsp-port',
      '0',
      '--discovery-port',
      '0',
      '--host',
      '127.0.0.1',
      '--user',
      'admin',
      '--password',
      's3cret',
      '--bitrate',
      '2000',
    ],
    { out: (l) => printed.push(l) },
  );
}, 30_000);

afterAll(async () => {
  await fleet?.stop();
  tmp.cleanup();
  expect(liveFfmpegCount()).toBe(0);
});

interface Match {
  relatesTo: string;
  address: string;
  xaddrs: string;
  scopes: string[];
  types: string;
}

/** A unicast Probe (the same message the onvif client multicasts) and the ProbeMatches received. */
async function probe(port: number, types = 'dn:NetworkVideoTransmitter', waitMs = 1000): Promise<Match[]> {
  const id = `urn:uuid:${randomUUID()}`;
  const msg =
    '<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    '<Header><wsa:MessageID xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">' +
    id +
    '</wsa:MessageID>' +
    '<wsa:To xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>' +
    '<wsa:Action xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>' +
    '</Header><Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery">' +
    (types ? `<Types>${types}</Types>` : '') +
    '<Scopes /></Probe></Body></Envelope>';
  const sock = dgram.createSocket('udp4');
  const out: Match[] = [];
  sock.on('message', (buf) => {
    parseSOAPString(
      buf.toString(),
      (err, data) => {
        if (err) return;
        const m = linerase(data).probeMatches.probeMatch;
        const header = /<a:RelatesTo>([^<]*)</.exec(buf.toString())?.[1] ?? '';
        out.push({
          relatesTo: header,
          address: m.endpointReference.address,
          xaddrs: m.XAddrs,
          scopes: String(m.scopes).split(' '),
          types: m.types,
        });
      },
      200,
    );
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.send(msg, port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, waitMs));
  sock.close();
  expect(out.every((m) => m.relatesTo === id)).toBe(true);
  return out;
}

describe('camera fleet', () => {
  test('runCameras prints each camera with its device and RTSP URLs', () => {
    expect(printed).toHaveLength(4);
    fleet.cameras.forEach((c, i) => {
      expect(c.name).toBe(`cam${i + 1}`);
      expect(c.zone).toBe(ZONES[i]);
      expect(printed[i]).toContain(`device=http://127.0.0.1:${c.httpPort}/onvif/device_service`);
      expect(printed[i]).toContain(`rtsp=rtsp://127.0.0.1:${fleet.rtsp.port}/cam${i + 1}`);
    });
    expect(new Set(fleet.cameras.map((c) => c.httpPort)).size).toBe(3);
  });

  test('a unicast WS-Discovery probe on 127.0.0.1 finds every camera with name and zone', async () => {
    const port = fleet.discovery!.port;
    const matches = await probe(port);
    expect(matches).toHaveLength(3);
    for (const c of fleet.cameras) {
      const m = matches.find((x) => x.address === c.endpoint);
      expect(m, c.name).toBeDefined();
      expect(m!.xaddrs).toBe(c.deviceUrl);
      expect(m!.scopes).toContain(`onvif://www.onvif.org/name/${c.name}`);
      expect(m!.scopes).toContain(`onvif://www.onvif.org/location/${c.zone}`);
      expect(m!.types).toContain('dn:NetworkVideoTransmitter');
    }
    // No Types: everything answers; a type we do not offer: nobody does.
    expect(await probe(port, '', 500)).toHaveLength(3);
    expect(await probe(port, 'dn:NetworkVideoDisplay', 300)).toHaveLength(0);
    // The discovered XAddr works with the real client.
    const m = matches[0]!;
    const url = new URL(m.xaddrs);
    const client = await connectCam({
      hostname: url.hostname,
      port: Number(url.port),
      username: 'admin',
      password: 's3cret',
    });
    expect(await call(client, 'getScopes')).toBeDefined();
  });

  test('an offline camera is not discovered until it is back', async () => {
    const c = fleet.cameras[1]!;
    await c.goOffline();
    try {
      const matches = await probe(fleet.discovery!.port, 'dn:NetworkVideoTransmitter', 400);
      expect(matches.map((x) => x.address).sort()).toEqual(
        [fleet.cameras[0]!.endpoint, fleet.cameras[2]!.endpoint].sort(),
      );
    } finally {
      await c.goOnline();
    }
    await c.waitForStream();
    expect(await probe(fleet.discovery!.port, 'dn:NetworkVideoTransmitter', 400)).toHaveLength(3);
  });

  test('ffprobe reads every RTSP stream over TCP as 640x360 H.264', async () => {
    const probed = await Promise.all(
      fleet.cameras.map((c) => ffprobe(c.streamUrl, ['-rtsp_transport', 'tcp'])),
    );
    for (const p of probed)
      expect(p.streams[0]).toMatchObject({
        codec_type: 'video',
        codec_name: 'h264',
        width: 640,
        height: 360,
      });
  });

  test('ffmpeg records 3 s with -c copy (TCP) and over UDP into files ffprobe reads', async () => {
    const tcpFile = join(tmp.path, 'cam1.mp4');
    const udpFile = join(tmp.path, 'cam3.mkv');
    await Promise.all([
      record(fleet.cameras[0]!.streamUrl, tcpFile, 3, 'tcp'),
      record(fleet.cameras[2]!.streamUrl, udpFile, 3, 'udp'),
    ]);
    for (const f of [tcpFile, udpFile]) {
      const p = await ffprobe(f);
      expect(p.streams[0]).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
      const duration = Number(p.format?.duration);
      expect(duration).toBeGreaterThan(2.5);
      expect(duration).toBeLessThan(4);
    }
    // About 2 Mbit/s for 3 s: well over 300 kB (CBR with filler).
    expect(statSync(tcpFile).size).toBeGreaterThan(300_000);
  }, 20_000);
});
