import net from 'node:net';
import { FrameSplitter } from '../../../../gateway/adapters/dc09/splitter.js';

/** A raw TCP client that collects reply frames and notices when it is closed. */
export class RawClient {
  readonly frames: string[] = [];
  closed = false;
  private readonly splitter = new FrameSplitter(4096);
  private waiters: Array<() => void> = [];

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (c) => {
      this.frames.push(...this.splitter.push(c).frames);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  static async connect(port: number): Promise<RawClient> {
    const sock = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    return new RawClient(sock);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(data: string): void {
    this.sock.write(Buffer.from(data, 'latin1'));
  }

  /** Waits until `cond` holds or `ms` pass; returns whether it held. */
  async until(cond: () => boolean, ms = 2000): Promise<boolean> {
    const end = Date.now() + ms;
    while (!cond()) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 20)); // also poll: conditions may not be socket events
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  close(): void {
    this.sock.destroy();
  }
}

export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
