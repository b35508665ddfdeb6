/**
 * One published path: the publisher's SDP and channel map, the readers that
 * play it, and the packet relay with a bound on every reader's backlog.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { frameHeader } from './protocol.js';
import type { Sdp } from './sdp.js';

/** How one track reaches one reader. */
export type ReaderTrack =
  | { kind: 'tcp'; rtpChannel: number; rtcpChannel: number }
  | { kind: 'udp'; host: string; rtpPort: number; rtcpPort: number };

export interface ReaderSession {
  id: string;
  socket: Socket;
  tracks: Map<number, ReaderTrack>;
  playing: boolean;
  /** Since when the socket backlog has been above the bound (ms), if it is. */
  overSince: number | undefined;
  dropped: number;
  sent: number;
}

export interface UdpPair {
  rtp: UdpSocket;
  rtcp: UdpSocket;
}

export interface RelayLimits {
  /** Above this many bytes queued on a reader's socket, its packets are dropped. */
  maxReaderBufferBytes: number;
  /** A reader that stays above the bound this long is disconnected. */
  slowReaderTimeoutMs: number;
}

export interface StreamStats {
  path: string;
  publishing: boolean;
  readers: number;
  packetsIn: number;
  bytesIn: number;
  packetsDropped: number;
  readersDisconnectedSlow: number;
}

export class Stream {
  readonly readers = new Set<ReaderSession>();
  /** Publisher interleaved channel → track index and whether it carries RTCP. */
  readonly channels = new Map<number, { track: number; rtcp: boolean }>();
  recording = false;
  packetsIn = 0;
  bytesIn = 0;
  packetsDropped = 0;
  readersDisconnectedSlow = 0;

  constructor(
    readonly path: string,
    readonly sdp: Sdp,
    readonly sdpVersion: number,
    readonly publisher: Socket,
    private readonly limits: RelayLimits,
    private readonly udp: UdpPair | undefined,
    private readonly onSlowReader: (r: ReaderSession) => void,
  ) {}

  /** Relays one packet received from the publisher to every playing reader. */
  relay(channel: number, payload: Buffer, now: number): void {
    const map = this.channels.get(channel);
    if (!map || !this.recording) return;
    this.packetsIn++;
    this.bytesIn += payload.length;
    for (const r of this.readers) {
      if (!r.playing) continue;
      const t = r.tracks.get(map.track);
      if (!t) continue;
      if (t.kind === 'udp') {
        const sock = map.rtcp ? this.udp?.rtcp : this.udp?.rtp;
        sock?.send(payload, map.rtcp ? t.rtcpPort : t.rtpPort, t.host);
        r.sent++;
        continue;
      }
      this.sendTcp(r, map.rtcp ? t.rtcpChannel : t.rtpChannel, payload, now);
    }
  }

  private sendTcp(r: ReaderSession, channel: number, payload: Buffer, now: number): void {
    const s = r.socket;
    if (s.destroyed || !s.writable) return;
    if (s.writableLength > this.limits.maxReaderBufferBytes) {
      r.dropped++;
      this.packetsDropped++;
      if (r.overSince === undefined) r.overSince = now;
      else if (now - r.overSince > this.limits.slowReaderTimeoutMs) {
        this.readersDisconnectedSlow++;
        this.onSlowReader(r);
      }
      return;
    }
    r.overSince = undefined;
    s.cork();
    s.write(frameHeader(channel, payload.length));
    s.write(payload);
    s.uncork();
    r.sent++;
  }

  stats(): StreamStats {
    return {
      path: this.path,
      publishing: this.recording,
      readers: this.readers.size,
      packetsIn: this.packetsIn,
      bytesIn: this.bytesIn,
      packetsDropped: this.packetsDropped,
      readersDisconnectedSlow: this.readersDisconnectedSlow,
    };
  }
}
