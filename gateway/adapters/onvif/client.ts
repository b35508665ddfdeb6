/**
 * A small typed wrapper around the `onvif` package (agsh), which has no types
 * of its own: promises instead of callbacks, a timeout on every call, one
 * settlement per call (whatever the library does with its callback), and
 * errors classified into what an operator can act on (`OnvifError.reason`).
 * Credentials never appear in an error message or a log line.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { CarewatchError, errorMessage } from '../../../lib/errors.js';

const require = createRequire(import.meta.url);

/** Why an ONVIF camera could not be used; becomes the `camera_state` offline reason. */
export type OnvifFailure =
  | 'unreachable'
  | 'timeout'
  | 'auth'
  | 'malformed'
  | 'no_h264'
  | 'profile_not_found'
  | 'no_stream_uri'
  | 'error';

export class OnvifError extends CarewatchError {
  constructor(
    readonly reason: OnvifFailure,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(`ONVIF_${reason.toUpperCase()}`, message, details);
    this.name = 'OnvifError';
  }
}

/** Maps an error of the onvif client (or the socket under it) to a failure reason. */
export function classifyOnvifError(err: unknown): OnvifFailure {
  if (err instanceof OnvifError) return err.reason;
  const e = err as NodeJS.ErrnoException | undefined;
  const msg = errorMessage(err);
  if (/not ?authori[sz]ed|authentication failed|\b401\b|wsse:|FailedAuthentication/i.test(msg)) return 'auth';
  const code = e?.code ?? '';
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(code))
    return 'unreachable';
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(msg)) return 'timeout';
  if (
    /Wrong ONVIF SOAP response|Unclosed root tag|Unexpected end|Non-whitespace|Invalid character|Unmatched closing|Text data outside|Cannot read propert|is not iterable|undefined/i.test(
      msg,
    )
  )
    return 'malformed';
  return 'error';
}

/** Removes user:password@ from any URL in a text (ffmpeg stderr, SOAP errors). */
export function maskCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*(:[^\s/@]*)?@/gi, '$1***@');
}

export interface OnvifConnectOptions {
  hostname: string;
  port: number;
  username?: string | undefined;
  password?: string | undefined;
  path?: string | undefined;
  /** Per request (default 5000 ms). */
  timeoutMs?: number | undefined;
}

/** A media profile as far as the gateway needs it. */
export interface OnvifProfile {
  token: string;
  name: string;
  encoding: string | undefined;
  width: number | undefined;
  height: number | undefined;
}

export interface OnvifDeviceInfo {
  manufacturer?: string;
  model?: string;
  firmwareVersion?: string;
  serialNumber?: string;
}

/** One message of a PullPoint subscription, reduced to topic, operation and simple items. */
export interface OnvifNotification {
  topic: string;
  operation: string | undefined;
  items: Record<string, string>;
}

type Callback = (err: Error | null, data?: unknown) => void;
interface CamLike {
  on(event: string, fn: (...a: unknown[]) => void): void;
  uri?: Record<string, unknown>;
  [method: string]: unknown;
}
type CamCtor = new (opts: Record<string, unknown>, cb: (err: Error | null) => void) => CamLike;

const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const asArray = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' ? (v as Record<string, unknown>) : {};

/** A connected camera. `close()` aborts what is still in flight (e.g. a held PullMessages). */
export class OnvifSession {
  private closed = false;

  private constructor(
    private readonly cam: CamLike,
    private readonly agent: http.Agent,
    private readonly timeoutMs: number,
  ) {}

  /** Connects (GetSystemDateAndTime, GetServices/GetCapabilities, GetProfiles) or rejects with an OnvifError. */
  static async connect(o: OnvifConnectOptions): Promise<OnvifSession> {
    const { Cam } = require('onvif') as { Cam: CamCtor };
    const timeoutMs = o.timeoutMs ?? 5000;
    const agent = new http.Agent({ keepAlive: false });
    let cam: CamLike | undefined;
    try {
      await settleOnce<void>(timeoutMs * 4, 'connect', (done) => {
        cam = new Cam(
          {
            hostname: o.hostname,
            port: o.port,
            username: o.username,
            password: o.password,
            path: o.path,
            timeout: timeoutMs,
            agent,
            preserveAddress: true,
          },
          (err) => done(err),
        );
        // The library emits 'error' in some paths; without a listener that would throw.
        cam.on('error', () => undefined);
      });
    } catch (err) {
      agent.destroy();
      throw toOnvifError(err, `connect ${o.hostname}:${o.port}`);
    }
    return new OnvifSession(cam!, agent, timeoutMs);
  }

  /** Whether the camera announced an event service. */
  get hasEvents(): boolean {
    return Boolean(this.cam.uri?.events);
  }

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    const fn = this.cam[method];
    if (typeof fn !== 'function')
      return Promise.reject(new OnvifError('error', `onvif client has no ${method}`));
    const limit = method === 'pullMessages' ? 90_000 : this.timeoutMs * 2;
    return settleOnce<T>(limit, method, (done) => {
      (fn as (...a: unknown[]) => void).call(this.cam, ...args, done as Callback);
    }).catch((err: unknown) => {
      throw toOnvifError(err, method);
    });
  }

  async profiles(): Promise<OnvifProfile[]> {
    const raw = await this.call<unknown>('getProfiles');
    if (!Array.isArray(raw)) throw new OnvifError('malformed', 'GetProfiles: no profile list in the answer');
    return raw.map((p) => {
      const r = obj(p);
      const enc = obj(r.videoEncoderConfiguration);
      const res = obj(enc.resolution);
      return {
        token: str(obj(r.$).token) ?? '',
        name: str(r.name) ?? '',
        encoding: str(enc.encoding),
        width: num(res.width),
        height: num(res.height),
      };
    });
  }

  async streamUri(profileToken: string): Promise<string> {
    const r = obj(await this.call<unknown>('getStreamUri', { protocol: 'RTSP', profileToken }));
    const uri = str(r.uri);
    if (!uri) throw new OnvifError('no_stream_uri', 'GetStreamUri: no URI in the answer');
    return uri;
  }

  async snapshotUri(profileToken: string): Promise<string | undefined> {
    const r = obj(await this.call<unknown>('getSnapshotUri', { profileToken }));
    return str(r.uri);
  }

  async deviceInformation(): Promise<OnvifDeviceInfo> {
    const r = obj(await this.call<unknown>('getDeviceInformation'));
    const out: OnvifDeviceInfo = {};
    for (const k of ['manufacturer', 'model', 'firmwareVersion', 'serialNumber'] as const) {
      const v = str(r[k]);
      if (v) out[k] = v.slice(0, 128);
    }
    return out;
  }

  async scopes(): Promise<string[]> {
    const r = await this.call<unknown>('getScopes');
    return asArray(r)
      .map((s) => str(obj(s).scopeItem))
      .filter((s): s is string => Boolean(s));
  }

  async createPullPoint(): Promise<void> {
    await this.call<unknown>('createPullPointSubscription');
  }

  /** One PullMessages (the camera holds it up to a minute when nothing happens). */
  async pullMessages(limit = 10): Promise<OnvifNotification[]> {
    const r = obj(await this.call<unknown>('pullMessages', { messageLimit: limit }));
    return asArray(r.notificationMessage).map((n) => {
      const m = obj(n);
      const topic = obj(m.topic);
      const inner = obj(obj(m.message).message);
      const items: Record<string, string> = {};
      for (const group of [inner.source, inner.data]) {
        for (const it of asArray(obj(group).simpleItem)) {
          const a = obj(obj(it).$);
          const name = str(a.Name);
          const value = str(a.Value);
          if (name && value !== undefined) items[name] = value;
        }
      }
      return {
        topic: str(topic._) ?? str(m.topic) ?? '',
        operation: str(obj(inner.$).PropertyOperation),
        items,
      };
    });
  }

  async renew(): Promise<void> {
    await this.call<unknown>('renew', {});
  }

  async unsubscribe(): Promise<void> {
    await this.call<unknown>('unsubscribe');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Drops every socket of this session (a held pull ends with an error that callers ignore). */
  close(): void {
    this.closed = true;
    this.agent.destroy();
  }
}

function toOnvifError(err: unknown, what: string): OnvifError {
  if (err instanceof OnvifError) return err;
  const reason = classifyOnvifError(err);
  return new OnvifError(reason, `${what}: ${maskCredentials(errorMessage(err)).slice(0, 200)}`);
}

/** Runs a callback-style call; the first callback (or the timeout) settles, later ones are ignored. */
function settleOnce<T>(timeoutMs: number, what: string, run: (done: Callback) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new OnvifError('timeout', `${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done: Callback = (err, data) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(data as T);
    };
    try {
      run(done);
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
