/**
 * Many WebSocket clients in the bench process, for fan-out measurements. A
 * message's arrival time is taken first thing in the handler; the only other
 * work per message is a substring check against the markers of the
 * broadcast being waited for, so the client side adds as little as it can
 * (and the same to the central and to the baseline).
 */
import WebSocket from 'ws';

interface Expectation {
  markers: string[];
  at: Float64Array;
  count: number;
  firstRaw: string | undefined;
  done: () => void;
}

export interface Arrivals {
  /** performance.now() of each client's arrival; 0 where none came. */
  at: Float64Array;
  missing: number;
  /** The matching message as client 0 received it. */
  raw: string | undefined;
}

export class WsPool {
  readonly sockets: WebSocket[] = [];
  private expect: Expectation | undefined;

  /**
   * Opens `n` clients, `concurrency` at a time; each counts as connected on
   * its first message (the server's snapshot or hello), after which the
   * server is known to have registered it for broadcasts.
   */
  static async connect(opts: {
    n: number;
    url: string;
    headers?: (i: number) => Record<string, string>;
    concurrency?: number;
    timeoutMs?: number;
  }): Promise<WsPool> {
    const pool = new WsPool();
    const conc = opts.concurrency ?? 50;
    for (let start = 0; start < opts.n; start += conc) {
      const wave: Array<Promise<void>> = [];
      for (let i = start; i < Math.min(opts.n, start + conc); i++)
        wave.push(pool.open(i, opts.url, opts.headers?.(i) ?? {}, opts.timeoutMs ?? 15_000));
      await Promise.all(wave);
    }
    return pool;
  }

  private open(i: number, url: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    this.sockets[i] = ws;
    return new Promise<void>((res, rej) => {
      const t = setTimeout(
        () => rej(new Error(`client ${i}: no first message in ${timeoutMs} ms`)),
        timeoutMs,
      );
      ws.on('error', (err) => {
        clearTimeout(t);
        rej(err);
      });
      ws.once('close', (code) => {
        clearTimeout(t);
        rej(new Error(`client ${i}: closed with ${code} before its first message`));
      });
      ws.once('message', () => {
        clearTimeout(t);
        ws.on('message', (data) => this.onMessage(i, data as Buffer));
        res();
      });
    });
  }

  private onMessage(i: number, data: Buffer): void {
    const t = performance.now();
    const e = this.expect;
    if (!e || e.at[i]! > 0) return;
    const raw = data.toString();
    for (const m of e.markers) if (!raw.includes(m)) return;
    e.at[i] = t;
    if (i === 0) e.firstRaw = raw;
    if (++e.count === this.sockets.length) e.done();
  }

  /**
   * Arms the pool for one broadcast: resolves when every client has a
   * message containing all `markers`, or after `timeoutMs` with the count of
   * clients still missing it. Call before triggering.
   */
  arm(markers: string[], timeoutMs = 10_000): Promise<Arrivals> {
    return new Promise((res) => {
      let timer: NodeJS.Timeout | undefined;
      const e: Expectation = {
        markers,
        at: new Float64Array(this.sockets.length),
        count: 0,
        firstRaw: undefined,
        done: () => {
          clearTimeout(timer);
          this.expect = undefined;
          res({ at: e.at, missing: this.sockets.length - e.count, raw: e.firstRaw });
        },
      };
      timer = setTimeout(() => e.done(), timeoutMs);
      this.expect = e;
    });
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
  }
}
