/**
 * A minimal MQTT 3.1.1 client for holding many idle connections from one
 * process: CONNECT with user name and password, wait for CONNACK, then a
 * PINGREQ every half keepalive. A full client (MQTT.js) costs far more
 * memory per connection than the broker side being measured, so the
 * connection benchmark speaks the few packets it needs itself.
 */
import { connect, type Socket } from 'node:net';

function utf8Field(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** CONNECT packet, protocol level 4, clean session, user name and password. */
export function connectPacket(clientId: string, username: string, password: string, keepaliveS: number) {
  const variable = Buffer.alloc(10);
  utf8Field('MQTT').copy(variable, 0);
  variable.writeUInt8(4, 6); // protocol level 3.1.1
  variable.writeUInt8(0x80 | 0x40 | 0x02, 7); // user name, password, clean session
  variable.writeUInt16BE(keepaliveS, 8);
  const payload = Buffer.concat([utf8Field(clientId), utf8Field(username), utf8Field(password)]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

const PINGREQ = Buffer.from([0xc0, 0x00]);
const DISCONNECT = Buffer.from([0xe0, 0x00]);

export interface LiteConnection {
  /** True until the socket closes. */
  alive(): boolean;
  /** PINGRESPs received (proof the broker keeps answering). */
  pongs(): number;
  close(): void;
}

/** Connects and resolves after a CONNACK with return code 0; rejects on any other answer or timeout. */
export function liteConnect(o: {
  host: string;
  port: number;
  localAddress?: string;
  clientId: string;
  username: string;
  password: string;
  keepaliveS: number;
  timeoutMs?: number;
}): Promise<LiteConnection> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect({
      host: o.host,
      port: o.port,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    let open = true;
    let pongs = 0;
    let acked = false;
    let ping: NodeJS.Timeout | undefined;
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(
      () => fail(new Error(`no CONNACK within ${o.timeoutMs ?? 30_000} ms`)),
      o.timeoutMs ?? 30_000,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (!acked) reject(err);
    };
    sock.setNoDelay(true);
    sock.on('connect', () => sock.write(connectPacket(o.clientId, o.username, o.password, o.keepaliveS)));
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 2) {
        const type = buf[0]! >> 4;
        const len = buf[1]!; // CONNACK and PINGRESP are short: one length byte
        if (buf.length < 2 + len) return;
        if (type === 2) {
          const rc = buf[3];
          if (rc !== 0) return fail(new Error(`CONNACK return code ${rc}`));
          acked = true;
          clearTimeout(timer);
          ping = setInterval(() => sock.write(PINGREQ), (o.keepaliveS * 1000) / 2);
          resolve({
            alive: () => open,
            pongs: () => pongs,
            close() {
              clearInterval(ping);
              if (open) sock.end(DISCONNECT);
            },
          });
        } else if (type === 13) pongs++;
        buf = buf.subarray(2 + len);
      }
    });
    sock.on('error', (err) => fail(err));
    sock.on('close', () => {
      open = false;
      clearInterval(ping);
      if (!acked) fail(new Error('connection closed before CONNACK'));
    });
  });
}
