/**
 * Resolution of an ONVIF camera into what the recorder and the snapshot
 * endpoint need: connect, GetProfiles, choose the profile, GetStreamUri (RTSP),
 * GetSnapshotUri and GetDeviceInformation.
 */
import type { OnvifCameraSource } from '../../config.js';
import { type OnvifDeviceInfo, OnvifError, type OnvifProfile, OnvifSession } from './client.js';

/** The shape `CameraModule.resolvedCamera()` hands out (used for snapshots). */
export interface ResolvedCamera {
  cameraId: string;
  /** What ffmpeg records: the RTSP URI with the credentials in it when the camera needs them. */
  streamUrl: string;
  snapshotUri?: string;
  username?: string;
  password?: string;
}

export interface OnvifResolution {
  camera: ResolvedCamera;
  profile: OnvifProfile;
  device: OnvifDeviceInfo;
  /** The session stays open for the PullPoint subscription; the caller closes it. */
  session: OnvifSession;
}

const isH264 = (p: OnvifProfile) => (p.encoding ?? '').replace(/[^a-z0-9]/gi, '').toUpperCase() === 'H264';

/**
 * The configured profile (by token, then by name) or the first H.264 profile.
 * A configured profile that is not H.264 is refused too: the recorder stream-copies into MP4.
 */
export function chooseProfile(profiles: OnvifProfile[], wanted: string | undefined): OnvifProfile {
  if (wanted) {
    const p = profiles.find((x) => x.token === wanted) ?? profiles.find((x) => x.name === wanted);
    if (!p) {
      const have = profiles.map((x) => x.token || x.name).join(', ') || 'none';
      throw new OnvifError(
        'profile_not_found',
        `profile ${JSON.stringify(wanted)} not offered (have: ${have})`,
      );
    }
    if (!isH264(p))
      throw new OnvifError(
        'no_h264',
        `profile ${JSON.stringify(wanted)} is ${p.encoding ?? 'not video'}, not H.264`,
      );
    return p;
  }
  const p = profiles.find(isH264);
  if (!p) {
    const encodings = [...new Set(profiles.map((x) => x.encoding ?? 'none'))].join(', ') || 'no profiles';
    throw new OnvifError('no_h264', `no H.264 profile (${encodings})`);
  }
  return p;
}

/**
 * The RTSP URI with the credentials in it, unless it already carries some or
 * there are none. A host-relative or loopback answer from a camera behind NAT
 * is left as the camera gave it.
 */
export function withCredentials(uri: string, username?: string, password?: string): string {
  if (!username) return uri;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new OnvifError('malformed', 'GetStreamUri: the URI is not a URL');
  }
  if (u.username) return uri;
  u.username = encodeURIComponent(username);
  if (password) u.password = encodeURIComponent(password);
  return u.toString();
}

export async function resolveOnvifCamera(cameraId: string, o: OnvifCameraSource): Promise<OnvifResolution> {
  const session = await OnvifSession.connect({
    hostname: o.host,
    port: o.port ?? 80,
    username: o.username,
    password: o.password,
    path: o.path,
    timeoutMs: o.timeoutMs,
  });
  try {
    const profile = chooseProfile(await session.profiles(), o.profile);
    const uri = await session.streamUri(profile.token);
    if (!/^rtsps?:\/\//i.test(uri)) throw new OnvifError('no_stream_uri', 'GetStreamUri: not an RTSP URI');
    const snapshotUri = await session.snapshotUri(profile.token).catch(() => undefined);
    const device = await session.deviceInformation().catch(() => ({}));
    return {
      camera: {
        cameraId,
        streamUrl: withCredentials(uri, o.username, o.password),
        ...(snapshotUri ? { snapshotUri } : {}),
        ...(o.username ? { username: o.username } : {}),
        ...(o.password !== undefined && o.username ? { password: o.password } : {}),
      },
      profile,
      device,
      session,
    };
  } catch (err) {
    session.close();
    throw err;
  }
}
