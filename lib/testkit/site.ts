/** Provisioned test sites and CLI processes, shared by the integration tests and the benchmarks. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { addUser, provisionGateway } from '../../cli/provision.js';
import { cli, freePort, type Proc } from './procs.js';

export interface Setup {
  centralDir: string;
  mqttPort: number;
  httpPort: number;
  busPort: number;
  siteYaml: string;
  gatewayPassword: string;
  adminPassword: string;
  base: string;
}

/** Provisions a site, a gateway and an admin in a fresh central data dir, and writes site.yaml. */
export async function setupSite(
  dir: string,
  opts: {
    siteId?: string;
    devices?: string[];
    heartbeatS?: number;
    centralUrl?: (p: number) => string;
    /** Give the gateway the central's HTTP URL (media uploads). */
    mediaUpload?: boolean;
    /** The gateway's QoS 1 window (`central.inflight`, default 64). */
    inflight?: number;
    /** Merged into site.yaml (e.g. attendance devices). */
    extra?: Record<string, unknown>;
  } = {},
): Promise<Setup> {
  const centralDir = join(dir, 'central');
  const siteId = opts.siteId ?? 'site-a';
  const gw = await provisionGateway({ dataDir: centralDir, siteId, gatewayId: `gw-${siteId}` });
  const admin = await addUser({ dataDir: centralDir, username: 'admin', role: 'admin', sites: '*' });
  const [mqttPort, httpPort, busPort] = [await freePort(), await freePort(), await freePort()];
  const siteYaml = join(dir, 'site.yaml');
  writeFileSync(
    siteYaml,
    stringify({
      siteId,
      gatewayId: gw.gatewayId,
      dataDir: join(dir, 'gateway'),
      central: {
        url: opts.centralUrl ? opts.centralUrl(mqttPort) : `mqtt://127.0.0.1:${mqttPort}`,
        keepaliveS: 5,
        ...(opts.inflight ? { inflight: opts.inflight } : {}),
        ...(opts.mediaUpload ? { httpUrl: `http://127.0.0.1:${httpPort}` } : {}),
      },
      localBus: { host: '127.0.0.1', port: busPort },
      heartbeatIntervalS: opts.heartbeatS ?? 2,
      buttons: {
        devices: (opts.devices ?? ['btn-1', 'btn-2', 'btn-3']).map((d) => ({ deviceId: d, room: d })),
      },
      ...opts.extra,
    }),
  );
  return {
    centralDir,
    mqttPort,
    httpPort,
    busPort,
    siteYaml,
    gatewayPassword: gw.password,
    adminPassword: admin.password,
    base: `http://127.0.0.1:${httpPort}`,
  };
}

export async function startCentral(s: Setup, extra: string[] = []): Promise<Proc> {
  const p = cli([
    'central',
    '--data-dir',
    s.centralDir,
    '--mqtt-port',
    String(s.mqttPort),
    '--http-port',
    String(s.httpPort),
    ...extra,
  ]);
  await p.waitFor(/central ready/);
  return p;
}

export async function startGateway(s: Setup): Promise<Proc> {
  const p = cli(['gateway', '--config', s.siteYaml], { CAREWATCH_GATEWAY_PASSWORD: s.gatewayPassword });
  await p.waitFor(/gateway ready/);
  return p;
}

export async function login(s: Setup, username = 'admin', password = s.adminPassword): Promise<string> {
  const r = await fetch(`${s.base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!r.ok) throw new Error(`login failed: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

export async function api<T = unknown>(
  s: Setup,
  token: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const r = await fetch(`${s.base}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
  });
  return { status: r.status, body: (await r.json()) as T };
}
