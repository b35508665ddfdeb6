/**
 * WS-Discovery for ONVIF cameras: a Probe for NetworkVideoTransmitters sent
 * to the multicast group (on a real network) and/or unicast to given
 * host:port targets (works on loopback and across routed networks), the
 * ProbeMatches collected until the timeout, then each camera described over
 * ONVIF (name, model, profiles) when it answers.
 */
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { errorMessage } from '../../../lib/errors.js';
import { logger } from '../../../lib/logger.js';
import { classifyOnvifError, type OnvifFailure, type OnvifProfile, OnvifSession } from './client.js';

const log = logger('gateway:onvif:discovery');

export const WSD_MULTICAST = '239.255.255.250';
export const WSD_PORT = 3702;

export interface ProbeMatch {
  /** Endpoint reference (`urn:uuid:...`): the camera's stable identity. */
  endpoint: string;
  xaddrs: string[];
  scopes: string[];
  types: string[];
  /** Where the answer came from. */
  from: string;
}

export interface ProbeOptions {
  /** host:port targets probed directly. */
  unicast?: string[];
  /** Also probe 239.255.255.250:3702 (default: when no unicast target is given). */
  multicast?: boolean;
  /** How long answers are collected (default 3000 ms). */
  timeoutMs?: number;
}

export function probeMessage(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"' +
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"' +
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"' +
    ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    `<s:Header><a:MessageID>${messageId}</a:MessageID>` +
    '<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
    '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

/** Text of the first element with this local name (any prefix). */
function textOf(xml: string, local: string): string | undefined {
  const m = new RegExp(
    `<(?:[A-Za-z0-9_-]+:)?${local}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[A-Za-z0-9_-]+:)?${local}>`,
  ).exec(xml);
  return m?.[1]?.trim();
}

const xmlUnescape = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
const words = (s: string | undefined) => (s ? xmlUnescape(s).split(/\s+/).filter(Boolean) : []);

/** Parses one ProbeMatches datagram (one match per datagram is what cameras send; more are accepted). */
export function parseProbeMatches(xml: string, relatesTo: string, from: string): ProbeMatch[] {
  if (!/ProbeMatches/.test(xml)) return [];
  const rel = textOf(xml, 'RelatesTo');
  if (rel !== undefined && rel !== relatesTo) return [];
  const out: ProbeMatch[] = [];
  const re = /<(?:[A-Za-z0-9_-]+:)?ProbeMatch(?:\s[^>]*)?>([\s\S]*?)<\/(?:[A-Za-z0-9_-]+:)?ProbeMatch>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const body = m[1] ?? '';
    const endpoint = textOf(body, 'Address');
    const xaddrs = words(textOf(body, 'XAddrs'));
    if (!endpoint || xaddrs.length === 0) continue;
    out.push({
      endpoint: xmlUnescape(endpoint),
      xaddrs,
      scopes: words(textOf(body, 'Scopes')),
      types: words(textOf(body, 'Types')),
      from,
    });
  }
  return out;
}

function parseTarget(t: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(t.trim());
  const port = Number(m?.[2] ?? WSD_PORT);
  if (!m?.[1] || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`not a host[:port] target: ${JSON.stringify(t)}`);
  return { host: m[1], port };
}

/** Sends the probe and collects the distinct cameras that answer before the timeout. */
export async function probeCameras(o: ProbeOptions = {}): Promise<ProbeMatch[]> {
  const targets = (o.unicast ?? []).map(parseTarget);
  const multicast = o.multicast ?? targets.length === 0;
  const id = `urn:uuid:${randomUUID()}`;
  const msg = Buffer.from(probeMessage(id), 'utf8');
  const found = new Map<string, ProbeMatch>();
  const open = async (address?: string) => {
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    sock.on('message', (buf, rinfo) => {
      if (buf.length > 64 * 1024) return;
      for (const m of parseProbeMatches(buf.toString('utf8'), id, `${rinfo.address}:${rinfo.port}`)) {
        if (!found.has(m.endpoint)) found.set(m.endpoint, m);
      }
    });
    sock.on('error', (err) => log.warn({ address, err: errorMessage(err) }, 'discovery socket error'));
    await new Promise<void>((resolve) => (address ? sock.bind(0, address, resolve) : sock.bind(0, resolve)));
    return sock;
  };
  const send = (sock: dgram.Socket, t: { host: string; port: number }) => {
    // WS-Discovery says: repeat the UDP message (here twice) since it may be lost.
    for (let i = 0; i < 2; i++) {
      sock.send(msg, t.port, t.host, (err) => {
        if (err) log.warn({ target: `${t.host}:${t.port}`, err: err.message }, 'probe not sent');
      });
    }
  };
  const sockets: dgram.Socket[] = [];
  try {
    const unicastSock = await open();
    sockets.push(unicastSock);
    for (const t of targets) send(unicastSock, t);
    if (multicast) {
      // One socket per interface: a probe on the default route alone misses cameras on the other networks.
      for (const address of ipv4Interfaces()) {
        const sock = await open(address).catch(() => undefined);
        if (!sock) continue;
        sockets.push(sock);
        try {
          sock.setMulticastInterface(address);
          sock.setMulticastTTL(4);
          send(sock, { host: WSD_MULTICAST, port: WSD_PORT });
        } catch (err) {
          log.warn({ address, err: errorMessage(err) }, 'no multicast on this interface');
        }
      }
    }
    await new Promise((r) => setTimeout(r, o.timeoutMs ?? 3000));
  } finally {
    for (const s of sockets) s.close();
  }
  return [...found.values()];
}

function ipv4Interfaces(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i): i is NonNullable<typeof i> => Boolean(i && i.family === 'IPv4' && !i.internal))
    .map((i) => i.address);
}

export interface DiscoveredCamera {
  endpoint: string;
  /** The device service URL (first XAddr). */
  address: string;
  host: string;
  port: number;
  name: string | undefined;
  location: string | undefined;
  manufacturer?: string;
  model?: string;
  firmwareVersion?: string;
  profiles: OnvifProfile[];
  /** Why the camera could not be described (wrong credentials, ...). */
  error?: { reason: OnvifFailure; message: string };
}

const scope = (scopes: string[], key: string) => {
  const s = scopes.find((x) => x.toLowerCase().startsWith(`onvif://www.onvif.org/${key}/`));
  if (!s) return undefined;
  try {
    return decodeURIComponent(s.slice(`onvif://www.onvif.org/${key}/`.length));
  } catch {
    return s.slice(`onvif://www.onvif.org/${key}/`.length);
  }
};

/** Connects to a discovered camera and reads its device information and profiles. */
export async function describeCamera(
  m: ProbeMatch,
  creds: { username?: string | undefined; password?: string | undefined; timeoutMs?: number } = {},
): Promise<DiscoveredCamera> {
  const address = m.xaddrs.find((x) => /^http:\/\//i.test(x)) ?? m.xaddrs[0]!;
  const url = new URL(address);
  const base: DiscoveredCamera = {
    endpoint: m.endpoint,
    address,
    host: url.hostname,
    port: Number(url.port || 80),
    name: scope(m.scopes, 'name'),
    location: scope(m.scopes, 'location'),
    profiles: [],
  };
  let session: OnvifSession | undefined;
  try {
    session = await OnvifSession.connect({
      hostname: base.host,
      port: base.port,
      path: url.pathname,
      username: creds.username,
      password: creds.password,
      timeoutMs: creds.timeoutMs,
    });
    const info = await session.deviceInformation();
    return { ...base, ...info, profiles: await session.profiles() };
  } catch (err) {
    return { ...base, error: { reason: classifyOnvifError(err), message: errorMessage(err) } };
  } finally {
    session?.close();
  }
}
