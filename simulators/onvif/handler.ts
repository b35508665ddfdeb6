/**
 * SOAP dispatch for one simulated camera: authentication, fault injection,
 * and the device, media and event operations.
 */
import { type Credentials, NonceCache, verifyUsernameToken } from './auth.js';
import {
  createPullPointResponse,
  eventPropertiesResponse,
  type PullPointManager,
  pullMessagesResponse,
  renewResponse,
} from './events.js';
import * as svc from './services.js';
import {
  actionNotSupported,
  envelope,
  fault,
  invalidArg,
  notAuthorized,
  operationOf,
  parseDurationMs,
  type SoapFault,
  textOf,
} from './soap.js';

/** Operations a client may call without credentials (ONVIF core, PRE_AUTH class). */
const PRE_AUTH = new Set([
  'GetSystemDateAndTime',
  'GetWsdlUrl',
  'GetServices',
  'GetCapabilities',
  'GetHostname',
]);

export interface SoapFaults {
  /** Answer these operations (or all, when `true`) with a broken, truncated XML body. */
  malformedSoap: boolean | string[];
  /** Refuse every credential, as if the password had been changed on the device. */
  rejectAuth: boolean;
}

export interface HandlerContext {
  info: () => svc.CameraInfo;
  users: () => Credentials[];
  faults: () => SoapFaults;
  events: PullPointManager;
  nonces: NonceCache;
}

export interface SoapReply {
  status: number;
  xml: string;
  op: string | undefined;
}

const ok = (op: string, body: string): SoapReply => ({ status: 200, xml: envelope(body), op });
const fromFault = (op: string | undefined, f: SoapFault): SoapReply => ({ status: f.status, xml: f.xml, op });

export function newNonceCache(): NonceCache {
  return new NonceCache(2000);
}

/** Handles one SOAP POST to `path`. */
export async function handleSoap(ctx: HandlerContext, path: string, xml: string): Promise<SoapReply> {
  const op = operationOf(xml);
  if (!op) return fromFault(op, fault('Sender', ['ter:WellFormed'], 'No SOAP body operation found'));

  const auth = verifyUsernameToken(xml, ctx.users(), { seenNonces: ctx.nonces });
  const rejected = auth === 'invalid' || (auth === 'ok' && ctx.faults().rejectAuth);
  if (rejected || (auth === 'missing' && !PRE_AUTH.has(op))) return fromFault(op, notAuthorized());

  const malformed = ctx.faults().malformedSoap;
  if (malformed === true || (Array.isArray(malformed) && malformed.includes(op))) {
    const full = (await dispatch(ctx, path, op, xml)).xml;
    // Cut the document in the middle of the body: not well-formed, no closing tags.
    return { status: 200, xml: full.slice(0, Math.max(60, Math.floor(full.length * 0.6))), op };
  }
  return dispatch(ctx, path, op, xml);
}

async function dispatch(ctx: HandlerContext, path: string, op: string, xml: string): Promise<SoapReply> {
  const cam = ctx.info();
  if (path.startsWith(svc.PATHS.pullpoint))
    return pullPoint(ctx, path.slice(svc.PATHS.pullpoint.length), op, xml);
  switch (op) {
    // Device service
    case 'GetSystemDateAndTime':
      return ok(op, svc.getSystemDateAndTime(new Date()));
    case 'GetDeviceInformation':
      return ok(op, svc.getDeviceInformation(cam));
    case 'GetCapabilities':
      return ok(op, svc.getCapabilities(cam));
    case 'GetServices':
      return ok(op, svc.getServices(cam, textOf(xml, 'IncludeCapability') === 'true'));
    case 'GetScopes':
      return ok(op, svc.getScopes(cam));
    case 'GetHostname':
      return ok(op, svc.getHostname(cam));
    // Media service
    case 'GetProfiles':
      return ok(op, svc.getProfiles(cam));
    case 'GetProfile':
      return profileToken(xml) ? ok(op, svc.getProfile(cam)) : noProfile(op);
    case 'GetVideoSources':
      return ok(op, svc.getVideoSources(cam));
    case 'GetStreamUri':
      return profileToken(xml) ? ok(op, svc.getStreamUri(cam)) : noProfile(op);
    case 'GetSnapshotUri':
      return profileToken(xml) ? ok(op, svc.getSnapshotUri(cam)) : noProfile(op);
    // Event service
    case 'GetEventProperties':
      return ok(op, eventPropertiesResponse());
    case 'CreatePullPointSubscription': {
      const ms = clampTermination(parseDurationMs(textOf(xml, 'InitialTerminationTime')));
      const sub = ctx.events.create(ms);
      if (!sub)
        return fromFault(
          op,
          fault('Receiver', ['ter:Action', 'ter:TooManySubscriptions'], 'Too many subscriptions'),
        );
      const address = `${cam.httpBase}${svc.PATHS.pullpoint}${sub.id}`;
      return ok(op, createPullPointResponse(address, sub.currentTime, sub.terminationTime));
    }
    case 'GetServiceCapabilities':
      return ok(op, serviceCapabilities(path));
    default:
      return fromFault(op, actionNotSupported(op));
  }
}

function profileToken(xml: string): boolean {
  const token = textOf(xml, 'ProfileToken');
  return token === undefined || token === '' || token === svc.PROFILE_TOKEN;
}

function noProfile(op: string): SoapReply {
  return fromFault(op, invalidArg('NoProfile', 'The requested profile token does not exist'));
}

function clampTermination(ms: number | undefined): number {
  if (ms === undefined || ms <= 0) return 60_000;
  return Math.min(ms, 3_600_000);
}

async function pullPoint(ctx: HandlerContext, id: string, op: string, xml: string): Promise<SoapReply> {
  const unknown = () =>
    fromFault(op, fault('Sender', ['ter:InvalidArgVal', 'ter:ResourceUnknown'], 'Unknown subscription'));
  switch (op) {
    case 'PullMessages': {
      const timeout = parseDurationMs(textOf(xml, 'Timeout')) ?? 0;
      const limit = Number(textOf(xml, 'MessageLimit') ?? '10');
      const r = await ctx.events.pull(id, Math.max(0, timeout), Number.isFinite(limit) ? limit : 10);
      return r ? ok(op, pullMessagesResponse(r)) : unknown();
    }
    case 'Renew': {
      const r = ctx.events.renew(id, clampTermination(parseDurationMs(textOf(xml, 'TerminationTime'))));
      return r ? ok(op, renewResponse(r.currentTime, r.terminationTime)) : unknown();
    }
    case 'Unsubscribe':
      return ctx.events.unsubscribe(id) ? ok(op, '<wsnt:UnsubscribeResponse/>') : unknown();
    case 'SetSynchronizationPoint':
      return ok(op, '<tev:SetSynchronizationPointResponse/>');
    default:
      return fromFault(op, actionNotSupported(op));
  }
}

function serviceCapabilities(path: string): string {
  if (path === svc.PATHS.events) {
    return '<tev:GetServiceCapabilitiesResponse><tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" MaxPullPoints="16"/></tev:GetServiceCapabilitiesResponse>';
  }
  if (path === svc.PATHS.media) {
    return '<trt:GetServiceCapabilitiesResponse><trt:Capabilities SnapshotUri="true"><trt:ProfileCapabilities MaximumNumberOfProfiles="1"/><trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"/></trt:Capabilities></trt:GetServiceCapabilitiesResponse>';
  }
  return (
    '<tds:GetServiceCapabilitiesResponse><tds:Capabilities>' +
    '<tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false"/>' +
    '<tds:Security UsernameToken="true" HttpDigest="false"/>' +
    '<tds:System DiscoveryResolve="false" DiscoveryBye="false" RemoteDiscovery="false" SystemBackup="false" SystemLogging="false" FirmwareUpgrade="false"/>' +
    '</tds:Capabilities></tds:GetServiceCapabilitiesResponse>'
  );
}
