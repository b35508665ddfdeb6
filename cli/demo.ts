import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { openCentralStore } from '../storage/open-store.js';
import { addRegion, addUser, provisionGateway } from './provision.js';

const DEVICES = ['btn-101', 'btn-102', 'btn-203', 'btn-204'];
/** Simulated ONVIF cameras of the demo institution and the call buttons each one sees. */
const CAMERAS = [
  { deviceId: 'cam-entrance', zone: 'entrance', covers: ['btn-101'] },
  { deviceId: 'cam-corridor', zone: 'corridor', covers: ['btn-102', 'btn-203'] },
  { deviceId: 'cam-canteen', zone: 'canteen', covers: ['btn-204'] },
];

const haveFfmpeg = (): boolean => spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/**
 * `carewatch demo` (what `npm start` runs): a central on embedded defaults
 * and one simulated institution (gateway + call buttons), as three separate
 * processes, with fresh credentials printed once.
 */
export async function runDemo(flags: {
  dataDir: string;
  httpPort: string;
  mqttPort: string;
  busPort: string;
  cameraPort: string;
  rtspPort: string;
}) {
  const dataDir = resolve(flags.dataDir);
  const centralDir = join(dataDir, 'central');
  mkdirSync(centralDir, { recursive: true });
  await addRegion({
    dataDir: centralDir,
    id: 'demo-province',
    name: '示范省 Demo Province',
    level: 'province',
  });
  await addRegion({
    dataDir: centralDir,
    id: 'demo-city',
    name: '示范市 Demo City',
    level: 'city',
    parent: 'demo-province',
  });
  await addRegion({
    dataDir: centralDir,
    id: 'demo-district',
    name: '示范区 Demo District',
    level: 'district',
    parent: 'demo-city',
  });
  const gw = await provisionGateway({
    dataDir: centralDir,
    siteId: 'demo-site',
    siteName: '阳光养老院 Sunshine Care Home',
    region: 'demo-district',
    gatewayId: 'gw-demo',
  });
  // a fire-control room roster: two certified operators (one certificate about to expire)
  const store = await openCentralStore({ dataDir: centralDir });
  try {
    const year = 365 * 24 * 3600_000;
    await store.fireRoom.putOperator({
      id: 'op-wang',
      siteId: 'demo-site',
      name: '王建国',
      certificateNo: 'XF-2024-0381',
      certificateExpiresAt: Date.now() + year,
    });
    await store.fireRoom.putOperator({
      id: 'op-li',
      siteId: 'demo-site',
      name: '李秀英',
      certificateNo: 'XF-2023-1177',
      certificateExpiresAt: Date.now() + 20 * 24 * 3600_000,
    });
  } finally {
    await store.close();
  }
  const admin = await addUser({ dataDir: centralDir, username: 'admin', role: 'admin', sites: '*' });
  // simulated ONVIF cameras recorded by the gateway (needs ffmpeg; without it the demo runs without cameras)
  const cameras = haveFfmpeg();
  const cameraPassword = randomBytes(9).toString('base64url');
  const cameraBase = Number(flags.cameraPort);
  const siteYaml = join(dataDir, 'site.yaml');
  writeFileSync(
    siteYaml,
    stringify({
      siteId: gw.siteId,
      siteName: '阳光养老院 Sunshine Care Home',
      gatewayId: gw.gatewayId,
      dataDir: join(dataDir, 'gateway'),
      central: {
        url: `mqtt://127.0.0.1:${flags.mqttPort}`,
        httpUrl: `http://127.0.0.1:${flags.httpPort}`,
      },
      localBus: { host: '127.0.0.1', port: Number(flags.busPort) },
      heartbeatIntervalS: 10,
      buttons: { devices: DEVICES.map((d) => ({ deviceId: d, room: d.slice(4) })) },
      attendance: { devices: [{ deviceId: 'badge-fcr', source: 'badge', room: '消防控制室' }] },
      ...(cameras
        ? {
            cameras: {
              recordingsDir: join(dataDir, 'recordings'),
              retentionDays: 30,
              segmentSeconds: 10,
              devices: CAMERAS.map((c, i) => ({
                ...c,
                onvif: {
                  host: '127.0.0.1',
                  port: cameraBase + i,
                  username: 'admin',
                  password: cameraPassword,
                },
              })),
            },
          }
        : {}),
    }),
    { mode: 0o600 },
  );

  const self = process.argv[1]!;
  const children: ChildProcess[] = [];
  const start = (name: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(process.execPath, [self, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const prefix = (chunk: Buffer) => {
      for (const l of chunk.toString().split('\n').filter(Boolean)) process.stdout.write(`[${name}] ${l}\n`);
    };
    child.stdout?.on('data', prefix);
    child.stderr?.on('data', prefix);
    child.on('exit', (code) => process.stdout.write(`[${name}] exited (${code})\n`));
    children.push(child);
    return child;
  };
  const stopAll = () => {
    for (const c of children) c.kill('SIGTERM');
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);

  start('central', [
    'central',
    '--data-dir',
    centralDir,
    '--http-port',
    flags.httpPort,
    '--mqtt-port',
    flags.mqttPort,
  ]);
  await waitForHttp(`http://127.0.0.1:${flags.httpPort}/readyz`, 30_000);
  if (cameras) {
    start('cameras', [
      'simulate',
      'cameras',
      '--count',
      String(CAMERAS.length),
      '--names',
      CAMERAS.map((c) => c.deviceId).join(','),
      '--zones',
      CAMERAS.map((c) => c.zone).join(','),
      '--http-base-port',
      String(cameraBase),
      '--rtsp-port',
      flags.rtspPort,
      '--no-discovery',
      '--size',
      '640x360',
      '--fps',
      '10',
      '--bitrate',
      '600',
      '--user',
      'admin',
      '--password',
      cameraPassword,
    ]);
    await waitForHttp(`http://127.0.0.1:${cameraBase}/snapshot.jpg`, 30_000).catch(() => undefined);
  } else {
    process.stdout.write('ffmpeg not found: the demo runs without cameras (install ffmpeg to see footage)\n');
  }
  start('gateway', ['gateway', '--config', siteYaml], { CAREWATCH_GATEWAY_PASSWORD: gw.password });
  await new Promise((r) => setTimeout(r, 1500));
  start('attendance', [
    'simulate',
    'attendance',
    '--bus',
    `mqtt://127.0.0.1:${flags.busPort}`,
    '--script',
    'in badge-fcr op-wang; wait 500; in badge-fcr op-li',
  ]);
  start('buttons', [
    'simulate',
    'buttons',
    '--bus',
    `mqtt://127.0.0.1:${flags.busPort}`,
    '--devices',
    DEVICES.join(','),
    '--rate',
    '0.1',
  ]);
  process.stdout.write(
    [
      '',
      'carewatch demo is running:',
      `  web:        http://127.0.0.1:${flags.httpPort}/   (user: admin  password: ${admin.password})`,
      `  MQTT:       mqtt://127.0.0.1:${flags.mqttPort}   (gateway gw-demo of site demo-site)`,
      `  device bus: mqtt://127.0.0.1:${flags.busPort}   (simulated call buttons ${DEVICES.join(', ')})`,
      `  metrics:    http://127.0.0.1:${flags.httpPort}/metrics`,
      cameras
        ? `  cameras:    ${CAMERAS.map((c) => c.deviceId).join(', ')} (simulated ONVIF, recorded by the gateway)`
        : '  cameras:    none (ffmpeg not found)',
      `  data:       ${dataDir}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}
