import type { Clock } from '../../../lib/clock.js';
import type { PanelEvent } from './mapping.js';

export interface Dc09AccountConfig {
  /** Account number, 3..16 hex digits. */
  account: string;
  /** AES key in hex (32/48/64 digits); when set, the account must encrypt. */
  key?: string;
  /** When set, messages must carry this receiver number (`R`), else DUH. */
  receiver?: string;
  /** When set, messages must carry this line prefix (`L`), else DUH. */
  prefix?: string;
  /** Plain messages must carry a timestamp within the window. */
  requireTimestamp?: boolean;
}

/** One accepted alarm message, handed to the sink before it is acknowledged. */
export interface PanelMessage {
  account: string;
  format: 'ADM-CID' | 'SIA-DCS';
  encrypted: boolean;
  seq: string;
  receiver?: string;
  prefix: string;
  events: PanelEvent[];
  xdata: string[];
  /** Panel's timestamp (epoch ms) when the message carried one. */
  panelTime: number | null;
  receivedAt: number;
  transport: 'tcp' | 'udp';
  remote: string;
  /** Same for a retransmission of the same message: use it for idempotency downstream. */
  dedupKey: string;
}

export interface Dc09ReceiverOptions {
  host?: string;
  /** TCP port (0 = any free port); null disables TCP. Default 0. */
  tcpPort?: number | null;
  /** UDP port (0 = any free port); null disables UDP. Default 0. */
  udpPort?: number | null;
  accounts: Dc09AccountConfig[];
  /** Called (and awaited) for each new alarm message before the ACK is sent. */
  sink: (msg: PanelMessage) => Promise<void>;
  onHeartbeat?: (account: string) => void;
  onSupervision?: (account: string, state: 'offline' | 'online') => void;
  /** An account silent this long is reported offline. Default 0 = off. */
  supervisionTimeoutS?: number;
  windowPastS?: number;
  windowFutureS?: number;
  /** Default timestamp requirement for plain messages. Default false. */
  requireTimestamp?: boolean;
  nakOnCorrupt?: boolean;
  /** Largest frame accepted; a TCP stream longer than this without <CR> is closed. Default 1024. */
  maxFrameBytes?: number;
  /** A TCP connection with no bytes for this long is closed. Default 60 s. */
  idleTimeoutMs?: number;
  /** A started frame must be complete within this time (slow-loris guard). Default 10 s. */
  frameTimeoutMs?: number;
  /** A sink call running longer than this counts as failed (no ACK). Default 15 s. */
  sinkTimeoutMs?: number;
  /** How long an acknowledged message is remembered to spot replays. Default 10 min. */
  dedupTtlMs?: number;
  maxConnections?: number;
  clock?: Clock;
}
