import net from 'node:net';
import { DEVICE_STATE_BITS, type DeviceStateFlag, toWord } from '../../gateway/adapters/gb26875/flags.js';
import {
  type ChecksumSpan,
  Command,
  Deframer,
  encodeFrame,
  type Gb26875Frame,
} from '../../gateway/adapters/gb26875/frame.js';
import {
  DataType,
  decodeAppData,
  encodeAppData,
  type KnownObject,
} from '../../gateway/adapters/gb26875/payload.js';
import { DEFAULT_TZ_OFFSET_MIN, epochToTime, type Gb26875Time } from '../../gateway/adapters/gb26875/time.js';
import { CarewatchError } from '../../lib/errors.js';

/**
 * A scriptable user information transmission device (用户信息传输装置)
 * speaking GB/T 26875.3-2011 to a receiver over TCP: it uploads fire, fault,
 * restore and device-state frames, waits for the confirm of each and
 * retransmits the identical frame when none comes, confirms the centre's
 * control frames, and answers post checks (查岗) or leaves them unanswered.
 */

export interface PartSpec {
  systemType: number;
  systemAddress: number;
  partType: number;
  partAddress: number;
  /** Part description, sent GB 18030 encoded. */
  text: string;
}

/** Parts a script can name. Unknown names get a made-up address and their name as text. */
export const DEFAULT_PARTS: Readonly<Record<string, PartSpec>> = {
  '3F-corridor': {
    systemType: 1,
    systemAddress: 1,
    partType: 40,
    partAddress: 0x0003_0012,
    text: '三楼走廊烟感',
  },
  '2F-room-201': {
    systemType: 1,
    systemAddress: 1,
    partType: 40,
    partAddress: 0x0002_00c9,
    text: '二楼201房间烟感',
  },
  '1F-hall-button': {
    systemType: 1,
    systemAddress: 1,
    partType: 23,
    partAddress: 0x0001_0003,
    text: '一楼大厅手动报警按钮',
  },
  '1F-kitchen': {
    systemType: 1,
    systemAddress: 1,
    partType: 30,
    partAddress: 0x0001_0020,
    text: '一楼厨房感温探测器',
  },
};

export interface DeviceSimOptions {
  host?: string;
  port: number;
  /** This device's address (frame source). */
  address: number;
  /** The centre's address (frame destination). Default 0. */
  centreAddress?: number;
  checksumSpan?: ChecksumSpan;
  /** Answer post checks as an operator would. Default true. */
  answerPostCheck?: boolean;
  /** Delay before the operator's answer. Default 50 ms. */
  answerDelayMs?: number;
  operator?: number;
  /** Wait this long for a confirm before retransmitting. Default 1000 ms. */
  confirmTimeoutMs?: number;
  /** Transmissions per frame, the first included. Default 3. */
  maxAttempts?: number;
  tzOffsetMinutes?: number;
  parts?: Readonly<Record<string, PartSpec>>;
  now?: () => number;
}

export interface SendResult {
  serial: number;
  confirmed: boolean;
  denied: boolean;
  attempts: number;
}

export interface PostCheckSeen {
  serial: number;
  timeoutMin: number;
  answered: boolean;
}

interface Waiter {
  serial: number;
  resolve: (how: 'confirm' | 'deny') => void;
}

export class Gb26875DeviceSim {
  private socket: net.Socket | undefined;
  private deframer: Deframer;
  private serial = 0;
  private readonly waiters = new Set<Waiter>();
  /** Every valid frame received from the centre. */
  readonly received: Gb26875Frame[] = [];
  readonly postChecks: PostCheckSeen[] = [];
  /** Bad frames received, by error code. */
  readonly errors: Record<string, number> = {};

  constructor(private readonly opts: DeviceSimOptions) {
    this.deframer = new Deframer({ checksumSpan: opts.checksumSpan ?? 'header+data' });
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private time(): Gb26875Time {
    return epochToTime(this.now(), this.opts.tzOffsetMinutes ?? DEFAULT_TZ_OFFSET_MIN);
  }

  async connect(): Promise<void> {
    if (this.socket) return;
    this.deframer = new Deframer({ checksumSpan: this.opts.checksumSpan ?? 'header+data' });
    const socket = net.connect({ host: this.opts.host ?? '127.0.0.1', port: this.opts.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
    });
    this.socket = socket;
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
      setTimeout(() => s.destroy(), 200).unref();
    });
  }

  get connected(): boolean {
    return !!this.socket && !this.socket.destroyed;
  }

  /** Writes bytes as they are (tests: garbage, corrupted frames, slow senders). */
  sendRaw(buf: Buffer): void {
    if (!this.socket) throw new CarewatchError('SIM_NOT_CONNECTED', 'device simulator is not connected');
    this.socket.write(buf);
  }

  /** Builds a send-data frame (does not send it). */
  buildFrame(objects: KnownObject[], serial = this.nextSerial(), time = this.time()): Buffer {
    return encodeFrame(
      {
        serial,
        time,
        source: this.opts.address,
        destination: this.opts.centreAddress ?? 0,
        command: Command.sendData,
        data: encodeAppData(objects),
      },
      { checksumSpan: this.opts.checksumSpan ?? 'header+data' },
    );
  }

  /** Uploads objects (command 2) and waits for the confirm, retransmitting the same bytes. */
  async send(objects: KnownObject[]): Promise<SendResult> {
    const serial = this.nextSerial();
    return this.sendFrame(this.buildFrame(objects, serial), serial);
  }

  /** Sends a prepared frame until it is confirmed or denied or attempts run out. */
  async sendFrame(frame: Buffer, serial: number): Promise<SendResult> {
    const max = this.opts.maxAttempts ?? 3;
    for (let attempt = 1; attempt <= max; attempt++) {
      if (!this.socket) return { serial, confirmed: false, denied: false, attempts: attempt - 1 };
      const answer = this.waitReply(serial, this.opts.confirmTimeoutMs ?? 1000);
      this.socket.write(frame);
      const how = await answer;
      if (how === 'confirm') return { serial, confirmed: true, denied: false, attempts: attempt };
      if (how === 'deny') return { serial, confirmed: false, denied: true, attempts: attempt };
    }
    return { serial, confirmed: false, denied: false, attempts: max };
  }

  part(name: string): PartSpec {
    const known = (this.opts.parts ?? DEFAULT_PARTS)[name];
    if (known) return known;
    let h = 0;
    for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
    return { systemType: 1, systemAddress: 1, partType: 25, partAddress: h, text: name };
  }

  /** Part state: bit 0 normal plus the given bits (1 fire, 2 fault, ...). */
  partState(name: string, status: number): Promise<SendResult> {
    const p = this.part(name);
    return this.send([{ type: DataType.partState, ...p, status, flags: [], time: this.time() }]);
  }

  fire(name: string): Promise<SendResult> {
    return this.partState(name, 0x0003);
  }

  fault(name: string): Promise<SendResult> {
    return this.partState(name, 0x0005);
  }

  restore(name: string): Promise<SendResult> {
    return this.partState(name, 0x0001);
  }

  /** Device state (type 21); `normal` is added. With no flags this is the heartbeat. */
  deviceState(flags: DeviceStateFlag[] = []): Promise<SendResult> {
    const status = toWord(['normal', ...flags], DEVICE_STATE_BITS);
    return this.send([{ type: DataType.deviceState, status, flags: [], time: this.time() }]);
  }

  heartbeat(): Promise<SendResult> {
    return this.deviceState([]);
  }

  /** The operator's post-check answer: type 24 with bit 5. */
  answerPostCheck(): Promise<SendResult> {
    return this.send([
      {
        type: DataType.deviceOperation,
        operation: 1 << 5,
        operations: [],
        operator: this.opts.operator ?? 1,
        time: this.time(),
      },
    ]);
  }

  /**
   * Runs a script of `;`-separated steps: `fire:NAME`, `fault:NAME`,
   * `restore:NAME`, `heartbeat`, `state:FLAG,FLAG` (device state flags),
   * `answer` (post-check answer), `wait:MS`.
   */
  async run(script: string, onStep?: (step: string, r: SendResult | null) => void): Promise<SendResult[]> {
    const out: SendResult[] = [];
    for (const raw of script.split(';')) {
      const step = raw.trim();
      if (!step) continue;
      const [verb = '', arg = ''] = splitOnce(step, ':');
      let r: SendResult | null = null;
      switch (verb) {
        case 'fire':
        case 'fault':
        case 'restore':
          if (!arg) throw new CarewatchError('SIM_BAD_SCRIPT', `step "${step}" needs a part name`);
          r = await this[verb](arg);
          break;
        case 'heartbeat':
          r = await this.heartbeat();
          break;
        case 'state':
          r = await this.deviceState(parseStateFlags(arg, step));
          break;
        case 'answer':
          r = await this.answerPostCheck();
          break;
        case 'wait':
          await new Promise((res) => setTimeout(res, Number(arg) || 0));
          break;
        default:
          throw new CarewatchError('SIM_BAD_SCRIPT', `unknown script step "${step}"`);
      }
      if (r) out.push(r);
      onStep?.(step, r);
    }
    return out;
  }

  private nextSerial(): number {
    this.serial = (this.serial + 1) & 0xffff;
    return this.serial;
  }

  private waitReply(serial: number, ms: number): Promise<'confirm' | 'deny' | 'timeout'> {
    return new Promise((resolve) => {
      const w: Waiter = {
        serial,
        resolve: (how) => {
          clearTimeout(t);
          this.waiters.delete(w);
          resolve(how);
        },
      };
      const t = setTimeout(() => {
        this.waiters.delete(w);
        resolve('timeout');
      }, ms);
      this.waiters.add(w);
    });
  }

  private onData(chunk: Buffer): void {
    for (const r of this.deframer.push(chunk)) {
      if (!r.ok) {
        this.errors[r.error.code] = (this.errors[r.error.code] ?? 0) + 1;
        continue;
      }
      const f = r.frame;
      this.received.push(f);
      if (f.command === Command.confirm || f.command === Command.deny) {
        for (const w of [...this.waiters]) {
          if (w.serial === f.serial) w.resolve(f.command === Command.confirm ? 'confirm' : 'deny');
        }
      } else if (f.command === Command.control) {
        this.onControl(f);
      }
    }
  }

  private onControl(f: Gb26875Frame): void {
    let objects: KnownObject[] = [];
    try {
      objects = decodeAppData(f.data).objects;
    } catch {
      this.reply(Command.deny, f.serial);
      return;
    }
    this.reply(Command.confirm, f.serial);
    for (const o of objects) {
      if (o.type !== DataType.postCheck) continue;
      const seen: PostCheckSeen = { serial: f.serial, timeoutMin: o.timeoutMin, answered: false };
      this.postChecks.push(seen);
      if (this.opts.answerPostCheck ?? true) {
        setTimeout(() => {
          seen.answered = true;
          this.answerPostCheck().catch(() => {});
        }, this.opts.answerDelayMs ?? 50).unref();
      }
    }
  }

  private reply(command: number, serial: number): void {
    if (!this.socket) return;
    this.socket.write(
      encodeFrame(
        {
          serial,
          time: this.time(),
          source: this.opts.address,
          destination: this.opts.centreAddress ?? 0,
          command,
        },
        { checksumSpan: this.opts.checksumSpan ?? 'header+data' },
      ),
    );
  }
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

function parseStateFlags(arg: string, step: string): DeviceStateFlag[] {
  const flags = arg
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x && x !== 'normal');
  for (const f of flags) {
    if (!(DEVICE_STATE_BITS as readonly string[]).includes(f)) {
      throw new CarewatchError('SIM_BAD_SCRIPT', `step "${step}": unknown device state flag "${f}"`, {
        known: DEVICE_STATE_BITS,
      });
    }
  }
  return flags as DeviceStateFlag[];
}
