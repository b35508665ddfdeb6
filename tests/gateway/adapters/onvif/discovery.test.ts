/**
 * WS-Discovery from the gateway side: a unicast probe on 127.0.0.1 finds every
 * simulated camera, each is described over ONVIF (name, model, profiles), and
 * `carewatch cameras discover` prints them with a YAML snippet that the
 * gateway's own config schema accepts once the zones are filled in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { discoverCameras, yamlSnippet } from '../../../../gateway/adapters/onvif/discover-report.js';
import {
  describeCamera,
  parseProbeMatches,
  probeCameras,
} from '../../../../gateway/adapters/onvif/discovery.js';
import { CamerasConfig } from '../../../../gateway/config.js';
import { validateConfig } from '../../../../lib/config.js';
import { liveFfmpegCount } from '../../../../simulators/onvif/ffmpeg.js';
import { type Fleet, startFleet } from '../../../../simulators/onvif/fleet.js';
import { cli, requireBuild } from '../../../helpers/procs.js';

const N = 3;
let fleet: Fleet;
let target: string;

beforeAll(async () => {
  fleet = await startFleet({
    count: N,
    zones: ['entrance', 'corridor', 'canteen'],
    rtspPort: 0,
    discovery: { host: '127.0.0.1', port: 0 },
    password: 'disc-secret',
    bitrateKbps: 300,
    fps: 5,
  });
  target = `127.0.0.1:${fleet.discovery!.port}`;
}, 30_000);

afterAll(async () => {
  await fleet?.stop();
  expect(liveFfmpegCount()).toBe(0);
});

describe('ONVIF discovery', () => {
  it(`a unicast probe finds the ${N} simulated cameras`, async () => {
    const found = await probeCameras({ unicast: [target], timeoutMs: 800 });
    expect(found.map((m) => m.endpoint).sort()).toEqual(fleet.cameras.map((c) => c.endpoint).sort());
    for (const c of fleet.cameras) {
      const m = found.find((x) => x.endpoint === c.endpoint)!;
      expect(m.xaddrs).toEqual([c.deviceUrl]);
      expect(m.scopes).toContain(`onvif://www.onvif.org/name/${c.name}`);
      expect(m.types).toContain('dn:NetworkVideoTransmitter');
    }
  });

  it('ignores answers to another probe and garbage', () => {
    const xml =
      '<s:Envelope><s:Header><a:RelatesTo>urn:uuid:other</a:RelatesTo></s:Header><s:Body><d:ProbeMatches><d:ProbeMatch>' +
      '<a:EndpointReference><a:Address>urn:uuid:x</a:Address></a:EndpointReference><d:XAddrs>http://h/</d:XAddrs>' +
      '</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>';
    expect(parseProbeMatches(xml, 'urn:uuid:mine', 'h')).toEqual([]);
    expect(parseProbeMatches(xml, 'urn:uuid:other', 'h')).toHaveLength(1);
    expect(parseProbeMatches('<<<not xml', 'urn:uuid:mine', 'h')).toEqual([]);
  });

  it('describes each camera with the credentials, and says why without them', async () => {
    const [m] = await probeCameras({ unicast: [target], timeoutMs: 500 });
    const ok = await describeCamera(m!, { username: 'admin', password: 'disc-secret' });
    expect(ok).toMatchObject({ model: 'SIM-IPC-H264', manufacturer: 'Carewatch Simulator' });
    expect(ok.profiles[0]).toMatchObject({ encoding: 'H264', width: 640, height: 360 });
    expect(ok.error).toBeUndefined();
    const bad = await describeCamera(m!, { username: 'admin', password: 'nope' });
    expect(bad.error?.reason).toBe('auth');
    expect(bad.name).toBe(ok.name);
  });

  it('the YAML snippet becomes a valid cameras config once zones and password are set', async () => {
    const cams = await discoverCameras({
      unicast: [target],
      timeoutMs: 500,
      username: 'admin',
      password: 'disc-secret',
    });
    expect(cams).toHaveLength(N);
    const text = yamlSnippet(cams, 'admin');
    expect(text).not.toContain('disc-secret');
    const doc = parse(text) as { cameras: { devices: Array<Record<string, unknown>> } };
    expect(doc.cameras.devices.map((d) => d.zone)).toEqual(['TODO', 'TODO', 'TODO']);
    for (const d of doc.cameras.devices) {
      d.zone = 'corridor';
      (d.onvif as Record<string, unknown>).password = 'disc-secret';
    }
    const cfg = validateConfig(CamerasConfig, { recordingsDir: '/tmp/r', ...doc.cameras }, 'site.yaml');
    expect(cfg.devices.map((d) => d.deviceId).sort()).toEqual(['cam1', 'cam2', 'cam3']);
    expect(cfg.devices[0]!.onvif).toMatchObject({
      host: '127.0.0.1',
      username: 'admin',
      profile: expect.any(String),
    });
  });

  it('carewatch cameras discover --unicast prints the cameras and the snippet', async () => {
    requireBuild();
    const p = cli(['cameras', 'discover', '--unicast', target, '--timeout', '800', '--username', 'admin'], {
      CAREWATCH_ONVIF_PASSWORD: 'disc-secret',
    });
    const code = await new Promise<number | null>((r) => p.child.on('exit', (c) => r(c)));
    const out = p.output();
    expect(code).toBe(0);
    expect(out).toContain(`${N} camera(s) found`);
    for (const c of fleet.cameras) {
      expect(out).toContain(c.deviceUrl);
      expect(out).toContain(`name: ${c.name}`);
    }
    expect(out).toContain('SIM-IPC-H264');
    expect(out).toContain('zone: TODO');
    expect(out).not.toContain('disc-secret');
  }, 30_000);
});
