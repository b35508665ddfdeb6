/**
 * `carewatch cameras discover`: probe, describe each camera, print one block
 * per camera and a ready-to-paste `cameras.devices` YAML snippet (zone: TODO;
 * the password is left as a placeholder, never printed).
 */
import { stringify } from 'yaml';
import { type DiscoveredCamera, describeCamera, probeCameras } from './discovery.js';

export interface DiscoverOptions {
  unicast?: string[];
  multicast?: boolean;
  timeoutMs?: number;
  username?: string;
  password?: string;
}

/** A device id from the camera's name (or its address), valid as a carewatch id. */
export function deviceIdFor(c: DiscoveredCamera, taken: Set<string>): string {
  const raw = (c.name ?? `cam-${c.host}-${c.port}`).toLowerCase();
  let id = raw.replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'cam';
  if (!/^[a-z0-9]/.test(id)) id = `cam-${id}`;
  id = id.slice(0, 60);
  let out = id;
  for (let i = 2; taken.has(out); i++) out = `${id}-${i}`;
  taken.add(out);
  return out;
}

export function yamlSnippet(cameras: DiscoveredCamera[], username?: string): string {
  const taken = new Set<string>();
  const devices = cameras.map((c) => ({
    deviceId: deviceIdFor(c, taken),
    zone: 'TODO',
    ...(c.name ? { label: c.name } : {}),
    onvif: {
      host: c.host,
      port: c.port,
      ...(username ? { username, password: 'TODO' } : {}),
      ...(c.profiles[0]?.token
        ? { profile: c.profiles.find((p) => p.encoding === 'H264')?.token ?? c.profiles[0].token }
        : {}),
    },
  }));
  return stringify({ cameras: { devices } }, { indent: 2 });
}

export function describeLine(c: DiscoveredCamera): string {
  const profiles = c.profiles
    .map(
      (p) =>
        `${p.token}${p.name && p.name !== p.token ? ` "${p.name}"` : ''} ${p.encoding ?? '?'} ${p.width ?? '?'}x${p.height ?? '?'}`,
    )
    .join(', ');
  return [
    `${c.address}`,
    `  name: ${c.name ?? '-'}${c.location ? `  location: ${c.location}` : ''}`,
    `  model: ${[c.manufacturer, c.model].filter(Boolean).join(' ') || '-'}${c.firmwareVersion ? `  firmware: ${c.firmwareVersion}` : ''}`,
    `  profiles: ${profiles || '-'}`,
    ...(c.error ? [`  not described: ${c.error.reason} (${c.error.message})`] : []),
  ].join('\n');
}

export async function discoverCameras(o: DiscoverOptions): Promise<DiscoveredCamera[]> {
  const matches = await probeCameras({
    ...(o.unicast?.length ? { unicast: o.unicast } : {}),
    ...(o.multicast !== undefined ? { multicast: o.multicast } : {}),
    timeoutMs: o.timeoutMs ?? 3000,
  });
  const described = await Promise.all(
    matches.map((m) => describeCamera(m, { username: o.username, password: o.password })),
  );
  return described.sort((a, b) => a.address.localeCompare(b.address));
}

/** Runs the command: returns the exit code (0 when at least one camera answered). */
export async function runDiscover(o: DiscoverOptions, out: (s: string) => void): Promise<number> {
  const cams = await discoverCameras(o);
  if (cams.length === 0) {
    out('no ONVIF camera answered the WS-Discovery probe\n');
    return 1;
  }
  out(`${cams.length} camera(s) found\n\n`);
  for (const c of cams) out(`${describeLine(c)}\n`);
  out('\n# site.yaml (set each zone: entrance, reception_hall, duty_room, corridor, canteen, ...)\n');
  out(yamlSnippet(cams, o.username));
  return 0;
}
