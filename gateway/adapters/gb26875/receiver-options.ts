import type { Clock } from '../../../lib/clock.js';
import type { Gb26875Event } from './events.js';
import type { ChecksumSpan } from './frame.js';
import type { KnownObject } from './payload.js';
import type { Gb26875Time } from './time.js';

/** What the sink learns about the frame the events came from. */
export interface Gb26875Meta {
  device: number;
  serial: number;
  version: { major: number; minor: number };
  frameTime: Gb26875Time;
  dataType: number;
  objects: KnownObject[];
  receivedAt: number;
  remote: string;
  /** Same for a retransmission (source + serial + time label): use it for idempotency downstream. */
  dedupKey: string;
}

export interface Gb26875ReceiverOptions {
  /** Default '0.0.0.0'. */
  host?: string;
  /** TCP port; 0 (default) picks a free one, see `port` after start. */
  port?: number;
  /** Our address, the source of confirm/deny/control frames. Default 0. */
  centreAddress?: number;
  checksumSpan?: ChecksumSpan;
  /** Awaited before a send-data frame is confirmed: store the events durably here. */
  sink: (events: Gb26875Event[], meta: Gb26875Meta) => Promise<void>;
  /** Call the sink also when a frame yields no new events (heartbeats, versions). Default false. */
  sinkEmpty?: boolean;
  /** Deliver repeated unchanged states too (default false: only changes and momentary events). */
  emitUnchanged?: boolean;
  /** Devices' local time zone, minutes east of UTC. Default 480 (UTC+8). */
  tzOffsetMinutes?: number;
  /** Mark events `test: true` when bit 0 says "test state". Default false (see flags.ts). */
  honourTestBit?: boolean;
  /** Answer frames whose header was readable but which are bad with a deny. Default true. */
  denyBadFrames?: boolean;
  /** A connection with no bytes for this long is closed. Default 5 min. */
  idleTimeoutMs?: number;
  /** A started frame must complete within this time, else the connection is closed. Default 10 s. */
  frameTimeoutMs?: number;
  /** A sink call running longer counts as failed (no confirm). Default 15 s. */
  sinkTimeoutMs?: number;
  /** How long a confirmed frame is remembered to spot retransmissions. Default 10 min. */
  dedupTtlMs?: number;
  maxConnections?: number;
  /** Frames waiting per connection beyond this are dropped (the device retries). Default 64. */
  maxQueuedFrames?: number;
  onDevice?: (device: number, state: 'online' | 'offline', remote: string) => void;
  clock?: Clock;
}

export interface Gb26875DeviceInfo {
  device: number;
  remote: string;
  connected: boolean;
  lastSeen: number;
  /** Device clock minus ours, from the last frame's time label (ms). */
  clockSkewMs?: number;
}
