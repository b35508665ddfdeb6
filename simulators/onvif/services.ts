/**
 * Response bodies of the ONVIF device and media services (Profile S, media
 * ver10) for one simulated camera with one video source and one profile.
 */
import { xmlEscape as x } from './soap.js';

export interface CameraInfo {
  name: string;
  zone: string;
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
  /** `http://host:port` of the camera's HTTP server. */
  httpBase: string;
  streamUri: string;
  snapshotUri: string;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
}

export const PROFILE_TOKEN = 'profile_main';
export const VIDEO_SOURCE_TOKEN = 'video_source_1';
const VSC_TOKEN = 'vsc_1';
const VEC_TOKEN = 'vec_main';

export const PATHS = {
  device: '/onvif/device_service',
  media: '/onvif/media_service',
  events: '/onvif/events_service',
  pullpoint: '/onvif/pullpoint/',
  snapshot: '/snapshot.jpg',
} as const;

/** ONVIF scope URIs; name and zone are percent-encoded. */
export function scopesOf(cam: Pick<CameraInfo, 'name' | 'zone' | 'model'>): string[] {
  const enc = (s: string) => encodeURIComponent(s);
  return [
    'onvif://www.onvif.org/type/video_encoder',
    'onvif://www.onvif.org/type/Network_Video_Transmitter',
    'onvif://www.onvif.org/Profile/Streaming',
    `onvif://www.onvif.org/name/${enc(cam.name)}`,
    `onvif://www.onvif.org/location/${enc(cam.zone)}`,
    `onvif://www.onvif.org/hardware/${enc(cam.model)}`,
  ];
}

function dateTimeXml(tag: string, d: Date, utc: boolean): string {
  const [Y, M, D, h, m, s] = utc
    ? [
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      ]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return (
    `<tt:${tag}><tt:Time><tt:Hour>${h}</tt:Hour><tt:Minute>${m}</tt:Minute><tt:Second>${s}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${Y}</tt:Year><tt:Month>${M}</tt:Month><tt:Day>${D}</tt:Day></tt:Date></tt:${tag}>`
  );
}

export function getSystemDateAndTime(now: Date): string {
  return (
    '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>' +
    '<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
    '<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>' +
    dateTimeXml('UTCDateTime', now, true) +
    dateTimeXml('LocalDateTime', now, false) +
    '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
  );
}

export function getDeviceInformation(cam: CameraInfo): string {
  return (
    '<tds:GetDeviceInformationResponse>' +
    `<tds:Manufacturer>${x(cam.manufacturer)}</tds:Manufacturer>` +
    `<tds:Model>${x(cam.model)}</tds:Model>` +
    `<tds:FirmwareVersion>${x(cam.firmwareVersion)}</tds:FirmwareVersion>` +
    `<tds:SerialNumber>${x(cam.serialNumber)}</tds:SerialNumber>` +
    `<tds:HardwareId>${x(cam.hardwareId)}</tds:HardwareId>` +
    '</tds:GetDeviceInformationResponse>'
  );
}

export function getScopes(cam: CameraInfo): string {
  const items = scopesOf(cam)
    .map(
      (s) => `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${x(s)}</tt:ScopeItem></tds:Scopes>`,
    )
    .join('');
  return `<tds:GetScopesResponse>${items}</tds:GetScopesResponse>`;
}

export function getHostname(cam: CameraInfo): string {
  const host = cam.name.replace(/[^A-Za-z0-9-]/g, '-');
  return `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>${x(host)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`;
}

export function getCapabilities(cam: CameraInfo): string {
  const b = cam.httpBase;
  return (
    '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
    `<tt:Device><tt:XAddr>${b}${PATHS.device}</tt:XAddr>` +
    '<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>false</tt:DiscoveryBye>' +
    '<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup>' +
    '<tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>' +
    '<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>' +
    '</tt:Device>' +
    `<tt:Events><tt:XAddr>${b}${PATHS.events}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
    '<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>' +
    `<tt:Media><tt:XAddr>${b}${PATHS.media}</tt:XAddr><tt:StreamingCapabilities>` +
    '<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>' +
    '</tt:StreamingCapabilities></tt:Media>' +
    '</tds:Capabilities></tds:GetCapabilitiesResponse>'
  );
}

export function getServices(cam: CameraInfo, includeCapability: boolean): string {
  const svc = (ns: string, path: string, caps: string) =>
    `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${cam.httpBase}${path}</tds:XAddr>` +
    (includeCapability ? `<tds:Capabilities>${caps}</tds:Capabilities>` : '') +
    '<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>';
  return (
    '<tds:GetServicesResponse>' +
    svc('http://www.onvif.org/ver10/device/wsdl', PATHS.device, '<tds:Capabilities/>') +
    svc(
      'http://www.onvif.org/ver10/media/wsdl',
      PATHS.media,
      '<trt:Capabilities SnapshotUri="true" Rotation="false"><trt:ProfileCapabilities MaximumNumberOfProfiles="1"/>' +
        '<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"/></trt:Capabilities>',
    ) +
    svc(
      'http://www.onvif.org/ver10/events/wsdl',
      PATHS.events,
      '<tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" MaxPullPoints="16"/>',
    ) +
    '</tds:GetServicesResponse>'
  );
}

function videoSourceConfiguration(cam: CameraInfo): string {
  return (
    `<tt:VideoSourceConfiguration token="${VSC_TOKEN}"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>1</tt:UseCount>` +
    `<tt:SourceToken>${VIDEO_SOURCE_TOKEN}</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="${cam.width}" height="${cam.height}"/></tt:VideoSourceConfiguration>`
  );
}

function videoEncoderConfiguration(cam: CameraInfo): string {
  return (
    `<tt:VideoEncoderConfiguration token="${VEC_TOKEN}"><tt:Name>MainStream</tt:Name><tt:UseCount>1</tt:UseCount>` +
    '<tt:Encoding>H264</tt:Encoding>' +
    `<tt:Resolution><tt:Width>${cam.width}</tt:Width><tt:Height>${cam.height}</tt:Height></tt:Resolution>` +
    '<tt:Quality>5</tt:Quality>' +
    `<tt:RateControl><tt:FrameRateLimit>${cam.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
    `<tt:BitrateLimit>${cam.bitrateKbps}</tt:BitrateLimit></tt:RateControl>` +
    `<tt:H264><tt:GovLength>${cam.fps}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>` +
    '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>' +
    '<tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
    '<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>'
  );
}

function profile(cam: CameraInfo, tag: string): string {
  return (
    `<${tag} token="${PROFILE_TOKEN}" fixed="true"><tt:Name>MainStream</tt:Name>` +
    videoSourceConfiguration(cam) +
    videoEncoderConfiguration(cam) +
    `</${tag}>`
  );
}

export function getProfiles(cam: CameraInfo): string {
  return `<trt:GetProfilesResponse>${profile(cam, 'trt:Profiles')}</trt:GetProfilesResponse>`;
}

export function getProfile(cam: CameraInfo): string {
  return `<trt:GetProfileResponse>${profile(cam, 'trt:Profile')}</trt:GetProfileResponse>`;
}

export function getVideoSources(cam: CameraInfo): string {
  return (
    `<trt:GetVideoSourcesResponse><trt:VideoSources token="${VIDEO_SOURCE_TOKEN}">` +
    `<tt:Framerate>${cam.fps}</tt:Framerate>` +
    `<tt:Resolution><tt:Width>${cam.width}</tt:Width><tt:Height>${cam.height}</tt:Height></tt:Resolution>` +
    '</trt:VideoSources></trt:GetVideoSourcesResponse>'
  );
}

function mediaUri(uri: string): string {
  return (
    `<trt:MediaUri><tt:Uri>${x(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    '<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>'
  );
}

export function getStreamUri(cam: CameraInfo): string {
  return `<trt:GetStreamUriResponse>${mediaUri(cam.streamUri)}</trt:GetStreamUriResponse>`;
}

export function getSnapshotUri(cam: CameraInfo): string {
  return `<trt:GetSnapshotUriResponse>${mediaUri(cam.snapshotUri)}</trt:GetSnapshotUriResponse>`;
}
