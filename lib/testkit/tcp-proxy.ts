/**
 * A loopback TCP proxy for fault injection between a gateway and the central.
 * It forwards every accepted connection to `target` and can, on demand:
 * - `cut()`:       destroy every connection and refuse new ones (RST) until `restore()`;
 * - `blackhole()`: keep sockets open but drop every byte both ways, and let no
 *                  close through, like a dead route; connections opened during
 *                  the blackhole get no upstream at all;
 * - `delay(ms)`:   deliver every chunk `ms` later (order kept);
 * - `reset()`:     send RST on both sides of every current connection.
 * A connection that lived through a blackhole stays broken after `restore()`
 * (its byte stream has holes): it keeps dropping bytes, and once one side has
 * closed, the other is reset, as a real peer would answer a stale segment.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

type Mode = 'pass' | 'cut' | 'blackhole';

export interface ProxyStats {
  accepted: number;
  refused: number;
  active: number;
  resets: number;
  bytesUp: number;
  bytesDown: number;
  droppedBytes: number;
}

/** One direction of a connection: forwards chunks, with optional delay, in order. */
class Pipe {
  private queue: Array<{ due: number; chunk: Buffer }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dst: Socket,
    private readonly delayMs: () => number,
  ) {}

  push(chunk: Buffer): void {
    const d = this.delayMs();
    if (d <= 0 && this.queue.length === 0) {
      this.dst.write(chunk);
      return;
    }
    this.queue.push({ due: Date.now() + d, chunk });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0]!.due - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = Date.now();
      while (this.queue.length && this.queue[0]!.due <= now) {
        const { chunk } = this.queue.shift()!;
        if (!this.dst.destroyed) this.dst.write(chunk);
      }
      this.schedule();
    }, wait);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }
}

class Conn {
  poisoned = false;
  private readonly pipes: Pipe[] = [];

  constructor(
    readonly down: Socket,
    readonly up: Socket | undefined,
  ) {}

  addPipe(p: Pipe): void {
    this.pipes.push(p);
  }

  get closedSide(): boolean {
    return this.down.destroyed || (this.up?.destroyed ?? true);
  }

  destroy(rst: boolean): void {
    for (const p of this.pipes) p.stop();
    for (const s of [this.down, this.up]) {
      if (!s || s.destroyed) continue;
      if (rst) s.resetAndDestroy();
      else s.destroy();
    }
  }
}

export class TcpProxy {
  private mode: Mode = 'pass';
  private delayMs = 0;
  private readonly conns = new Set<Conn>();
  readonly stats: ProxyStats = {
    accepted: 0,
    refused: 0,
    active: 0,
    resets: 0,
    bytesUp: 0,
    bytesDown: 0,
    droppedBytes: 0,
  };

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Listens on 127.0.0.1:`listenPort` (0: any free port) and forwards to `target`. */
  static async start(target: { host?: string; port: number }, listenPort = 0): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((sock) => proxy?.accept(sock));
    const port = await new Promise<number>((res, rej) => {
      server.once('error', rej);
      server.listen(listenPort, '127.0.0.1', () => res((server.address() as { port: number }).port));
    });
    proxy = new TcpProxy(server, port, { host: target.host ?? '127.0.0.1', port: target.port });
    return proxy;
  }

  get currentMode(): Mode {
    return this.mode;
  }

  private accept(down: Socket): void {
    down.on('error', () => {});
    if (this.mode === 'cut') {
      this.stats.refused++;
      down.resetAndDestroy();
      return;
    }
    this.stats.accepted++;
    if (this.mode === 'blackhole') {
      // the SYN "got through" to us, but nothing reaches the far side
      const c = new Conn(down, undefined);
      c.poisoned = true;
      down.on('data', (d: Buffer) => {
        this.stats.droppedBytes += d.length;
      });
      this.track(c);
      return;
    }
    const up = tcpConnect(this.target.port, this.target.host);
    up.on('error', () => {});
    const c = new Conn(down, up);
    const toUp = new Pipe(up, () => this.delayMs);
    const toDown = new Pipe(down, () => this.delayMs);
    c.addPipe(toUp);
    c.addPipe(toDown);
    const forward = (dir: 'up' | 'down', pipe: Pipe) => (d: Buffer) => {
      if (c.poisoned) {
        this.stats.droppedBytes += d.length;
        return;
      }
      if (dir === 'up') this.stats.bytesUp += d.length;
      else this.stats.bytesDown += d.length;
      pipe.push(d);
    };
    down.on('data', forward('up', toUp));
    up.on('data', forward('down', toDown));
    const onClose = (other: Socket) => () => {
      // a close crosses the proxy unless the route is a blackhole
      if (c.poisoned && this.mode === 'blackhole') return;
      if (c.poisoned) {
        if (!other.destroyed) other.resetAndDestroy();
        return;
      }
      if (!other.destroyed) other.end();
    };
    down.on('close', onClose(up));
    up.on('close', onClose(down));
    this.track(c);
  }

  private track(c: Conn): void {
    this.conns.add(c);
    this.stats.active = this.conns.size;
    const done = () => {
      if (c.down.destroyed && (!c.up || c.up.destroyed)) {
        this.conns.delete(c);
        this.stats.active = this.conns.size;
      }
    };
    c.down.on('close', done);
    c.up?.on('close', done);
  }

  /** Destroys every connection and refuses new ones until `restore()`. */
  cut(): void {
    this.mode = 'cut';
    for (const c of this.conns) c.destroy(false);
  }

  /** Silently drops every byte both ways, on current and new connections, until `restore()`. */
  blackhole(): void {
    this.mode = 'blackhole';
    for (const c of this.conns) c.poisoned = true;
  }

  /** Delays every chunk by `ms` (0: none). */
  delay(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  /** Sends RST to both sides of every current connection. */
  reset(): void {
    for (const c of this.conns) {
      this.stats.resets++;
      c.destroy(true);
    }
  }

  /** Back to forwarding. Connections broken by a blackhole stay broken (see the file comment). */
  restore(): void {
    this.mode = 'pass';
    this.delayMs = 0;
    for (const c of this.conns) {
      if (c.poisoned && (c.closedSide || !c.up)) c.destroy(true);
    }
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy(false);
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
