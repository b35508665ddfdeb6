/**
 * WS-Discovery (2005/04, as ONVIF uses it) responder for the simulated
 * cameras of this process: answers `Probe` messages with one unicast
 * `ProbeMatches` per matching camera, sent back to the prober's address and
 * port, so that a unicast probe on loopback works as well as a multicast one.
 */
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { CarewatchError, errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { attrOf, operationOf, textOf, xmlEscape } from './soap.js';

export const WSD_MULTICAST = '239.255.255.250';
export const WSD_PORT = 3702;

const NS_WSD = 'http://schemas.xmlsoap.org/ws/2005/04/discovery';
const NS_WSA = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
const ACTION_PROBE_MATCHES = `${NS_WSD}/ProbeMatches`;
const ANONYMOUS = `${NS_WSA}/role/anonymous`;
const RFC3986 = `${NS_WSD}/rfc3986`;
const STRCMP0 = `${NS_WSD}/strcmp0`;

export interface DiscoveryDevice {
  /** `urn:uuid:...`, stable across restarts. */
  endpoint: string;
  /** Device service URLs (evaluated per answer: ports may change). */
  xaddrs: () => string[];
  scopes: string[];
  /** Device types as QNames; default `dn:NetworkVideoTransmitter tds:Device`. */
  types?: string[];
  /** A device that is not active is not announced. Default: always active. */
  active?: () => boolean;
}

export interface DiscoveryOptions {
  /** Default 0.0.0.0 (then the multicast group is joined); 127.0.0.1 for tests. */
  host?: string;
  /** Default 3702; 0 picks a free port. */
  port?: number;
  /** Join 239.255.255.250. Default: when host is 0.0.0.0. */
  multicast?: boolean;
  /** Random delay before answering a multicast probe (WS-Discovery APP_MAX_DELAY). Default 0. */
  maxDelayMs?: number;
}

const DEFAULT_TYPES = ['dn:NetworkVideoTransmitter', 'tds:Device'];

export class DiscoveryResponder {
  private readonly log = logger('sim:onvif:discovery');
  private readonly devices = new Map<string, DiscoveryDevice>();
  private readonly instanceId = Math.floor(Date.now() / 1000);
  private messageNumber = 0;
  private socket: dgram.Socket | undefined;
  private readonly opts: Required<DiscoveryOptions>;
  probesAnswered = 0;

  constructor(options: DiscoveryOptions = {}) {
    const host = options.host ?? '0.0.0.0';
    this.opts = {
      host,
      port: options.port ?? WSD_PORT,
      multicast: options.multicast ?? host === '0.0.0.0',
      maxDelayMs: options.maxDelayMs ?? 0,
    };
  }

  get port(): number {
    const s = this.socket;
    if (!s) throw new CarewatchError('SIM_DISCOVERY_NOT_RUNNING', 'discovery responder is not running');
    return s.address().port;
  }

  get host(): string {
    return this.opts.host;
  }

  add(device: DiscoveryDevice): void {
    this.devices.set(device.endpoint, device);
  }

  remove(endpoint: string): void {
    this.devices.delete(endpoint);
  }

  async start(): Promise<void> {
    if (this.socket) return;
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) =>
        reject(
          new CarewatchError(
            'SIM_DISCOVERY_BIND',
            `WS-Discovery bind ${this.opts.host}:${this.opts.port}: ${err.message}`,
          ),
        ),
      );
      socket.bind(this.opts.port, this.opts.host, () => resolve());
    });
    socket.removeAllListeners('error');
    socket.on('error', (err) => this.log.warn({ err: errorMessage(err) }, 'discovery socket error'));
    if (this.opts.multicast) {
      try {
        socket.addMembership(WSD_MULTICAST);
      } catch (err) {
        this.log.warn(
          { err: errorMessage(err) },
          'cannot join the WS-Discovery multicast group; unicast only',
        );
      }
    }
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.socket = socket;
    this.log.info(
      { host: this.opts.host, port: this.port, multicast: this.opts.multicast },
      'WS-Discovery responder up',
    );
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length > 64 * 1024) return;
    const xml = msg.toString('utf8');
    if (operationOf(xml) !== 'Probe') return;
    const messageId = textOf(xml, 'MessageID');
    if (!messageId) return;
    const types = (textOf(xml, 'Types') ?? '').split(/\s+/).filter(Boolean);
    const scopes = (textOf(xml, 'Scopes') ?? '').split(/\s+/).filter(Boolean);
    const matchBy = attrOf(xml, 'Scopes', 'MatchBy') ?? RFC3986;
    const matches = [...this.devices.values()].filter(
      (d) =>
        (d.active?.() ?? true) &&
        typesMatch(types, d.types ?? DEFAULT_TYPES) &&
        scopesMatch(scopes, d.scopes, matchBy),
    );
    this.log.debug(
      { from: `${rinfo.address}:${rinfo.port}`, types, scopes, matches: matches.length },
      'probe',
    );
    if (matches.length === 0) return;
    this.probesAnswered++;
    const delay = this.opts.maxDelayMs > 0 ? Math.random() * this.opts.maxDelayMs : 0;
    const send = () => {
      for (const d of matches) {
        const out = Buffer.from(this.probeMatches(messageId, d), 'utf8');
        this.socket?.send(out, rinfo.port, rinfo.address, (err) => {
          if (err) this.log.warn({ err: err.message }, 'cannot send ProbeMatches');
        });
      }
    };
    if (delay > 0) setTimeout(send, delay).unref();
    else send();
  }

  private probeMatches(relatesTo: string, d: DiscoveryDevice): string {
    this.messageNumber++;
    return (
      '<?xml version="1.0" encoding="UTF-8"?>' +
      `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="${NS_WSA}" xmlns:d="${NS_WSD}"` +
      ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">' +
      '<s:Header>' +
      `<a:MessageID>urn:uuid:${randomUUID()}</a:MessageID>` +
      `<a:RelatesTo>${xmlEscape(relatesTo)}</a:RelatesTo>` +
      `<a:To>${ANONYMOUS}</a:To>` +
      `<a:Action>${ACTION_PROBE_MATCHES}</a:Action>` +
      `<d:AppSequence InstanceId="${this.instanceId}" MessageNumber="${this.messageNumber}"/>` +
      '</s:Header><s:Body><d:ProbeMatches><d:ProbeMatch>' +
      `<a:EndpointReference><a:Address>${xmlEscape(d.endpoint)}</a:Address></a:EndpointReference>` +
      `<d:Types>${(d.types ?? DEFAULT_TYPES).join(' ')}</d:Types>` +
      `<d:Scopes>${d.scopes.map(xmlEscape).join(' ')}</d:Scopes>` +
      `<d:XAddrs>${d.xaddrs().map(xmlEscape).join(' ')}</d:XAddrs>` +
      '<d:MetadataVersion>1</d:MetadataVersion>' +
      '</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>'
    );
  }
}

/** Every requested type (compared by local name) must be one of the device's. */
export function typesMatch(requested: string[], offered: string[]): boolean {
  const local = (q: string) => q.slice(q.indexOf(':') + 1);
  const have = new Set(offered.map(local));
  return requested.every((t) => have.has(local(t)));
}

/** Every requested scope must match one of the device's (RFC 3986 segment prefix, or exact). */
export function scopesMatch(requested: string[], offered: string[], matchBy: string): boolean {
  const exact = matchBy === STRCMP0;
  if (!exact && matchBy !== RFC3986 && matchBy !== '') return false;
  return requested.every((want) =>
    offered.some((have) => {
      if (exact) return have === want;
      const w = want.replace(/\/+$/, '').toLowerCase();
      const h = have.toLowerCase();
      return h === w || h.startsWith(`${w}/`);
    }),
  );
}
