/**
 * The soak's system: one central and several provisioned sites, each a
 * gateway process with call buttons, a fire-control-room badge reader and a
 * DC-09 alarm panel account, all on loopback.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { addUser, provisionGateway } from '../cli/provision.js';
import { cli, freePort, type Proc } from '../lib/testkit/procs.js';

export const LOAD_BUTTONS = 20;
export const PROBE_BUTTONS = ['probe-1', 'probe-2'];
export const PANEL_ACCOUNT = '5501';

export interface SoakSite {
  siteId: string;
  busPort: number;
  dc09Port: number;
  metricsPort: number;
  siteYaml: string;
  password: string;
}

export interface SoakSystem {
  centralDir: string;
  mqttPort: number;
  httpPort: number;
  base: string;
  adminPassword: string;
  sites: SoakSite[];
}

export async function provisionSystem(dir: string, siteCount: number): Promise<SoakSystem> {
  const centralDir = join(dir, 'central');
  mkdirSync(centralDir, { recursive: true });
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const sites: SoakSite[] = [];
  for (let i = 0; i < siteCount; i++) {
    const siteId = `soak-${i + 1}`;
    const gw = await provisionGateway({ dataDir: centralDir, siteId, gatewayId: `gw-${siteId}` });
    const [busPort, dc09Port, metricsPort] = [await freePort(), await freePort(), await freePort()];
    const siteYaml = join(dir, `${siteId}.yaml`);
    const buttons = [
      ...Array.from({ length: LOAD_BUTTONS }, (_, j) => `load-${j}`),
      ...(i === 0 ? PROBE_BUTTONS : []),
    ];
    writeFileSync(
      siteYaml,
      stringify({
        siteId,
        gatewayId: gw.gatewayId,
        dataDir: join(dir, siteId),
        central: { url: `mqtt://127.0.0.1:${mqttPort}`, keepaliveS: 10 },
        localBus: { host: '127.0.0.1', port: busPort },
        heartbeatIntervalS: 10,
        buttons: { devices: buttons.map((d) => ({ deviceId: d, room: d })) },
        attendance: { devices: [{ deviceId: 'badge-fcr', source: 'badge', room: 'fire-control-room' }] },
        dc09: {
          host: '127.0.0.1',
          tcpPort: dc09Port,
          udpPort: null,
          supervisionTimeoutS: 600,
          accounts: [{ account: PANEL_ACCOUNT, label: 'soak panel' }],
        },
        metrics: { host: '127.0.0.1', port: metricsPort },
      }),
    );
    sites.push({ siteId, busPort, dc09Port, metricsPort, siteYaml, password: gw.password });
  }
  const admin = await addUser({ dataDir: centralDir, username: 'admin', role: 'admin', sites: '*' });
  return {
    centralDir,
    mqttPort,
    httpPort,
    base: `http://127.0.0.1:${httpPort}`,
    adminPassword: admin.password,
    sites,
  };
}

export interface Running {
  central: Proc;
  gateways: Proc[];
  stop: () => Promise<void>;
}

export async function startSystem(sys: SoakSystem): Promise<Running> {
  const quiet = { CAREWATCH_LOG_LEVEL: process.env.CAREWATCH_LOG_LEVEL ?? 'warn' };
  const central = cli(
    [
      'central',
      '--data-dir',
      sys.centralDir,
      '--mqtt-port',
      String(sys.mqttPort),
      '--http-port',
      String(sys.httpPort),
    ],
    quiet,
  );
  const gateways: Proc[] = [];
  const stop = async () => {
    await Promise.all(gateways.map((g) => g.kill()));
    await central.kill();
  };
  try {
    await central.waitFor(/central ready/, 60_000);
    for (const s of sys.sites) {
      const g = cli(['gateway', '--config', s.siteYaml], {
        ...quiet,
        CAREWATCH_GATEWAY_PASSWORD: s.password,
      });
      gateways.push(g);
      await g.waitFor(/gateway ready/, 60_000);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { central, gateways, stop };
}
