import net from 'node:net';
import tls from 'node:tls';
import { NotifyError } from './types.js';

/**
 * A small SMTP client (RFC 5321) over `net`/`tls`: EHLO, optional STARTTLS
 * (RFC 3207), AUTH PLAIN or LOGIN (RFC 4954), MAIL FROM, RCPT TO, DATA with
 * dot-stuffing, QUIT. One connection per message: alerts are rare enough.
 * 4xx replies, timeouts and network failures are retryable, 5xx are not.
 */
export interface SmtpOptions {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (port 465). */
  secure: boolean;
  /** STARTTLS on a plain connection: `required` fails when the server does not offer it. */
  starttls: 'required' | 'opportunistic' | 'never';
  user?: string | undefined;
  password?: string | undefined;
  /** Credentials over an unencrypted connection (only for local relays and tests). */
  allowInsecureAuth?: boolean | undefined;
  /** Name announced in EHLO and used in Message-IDs. */
  heloName: string;
  timeoutMs: number;
  /** Extra TLS options (ca, rejectUnauthorized, servername). */
  tls?: tls.ConnectionOptions | undefined;
}

export interface MailOptions {
  from: string;
  fromName?: string | undefined;
  to: string[];
  subject: string;
  text: string;
  messageId: string;
  date: Date;
}

export interface SendResult {
  accepted: string[];
  rejected: Array<{ address: string; code: number; text: string }>;
}

interface Reply {
  code: number;
  lines: string[];
}

function smtpError(step: string, r: Reply): NotifyError {
  const text = r.lines.join(' ').slice(0, 300);
  return new NotifyError('NOTIFY_SMTP', `SMTP ${step}: ${r.code} ${text}`, r.code >= 400 && r.code < 500, {
    step,
    smtpCode: r.code,
  });
}

/** Lines that start with a dot get another one (RFC 5321 §4.5.2). Input uses CRLF. */
export function dotStuff(crlfText: string): string {
  return crlfText.replace(/(^|\r\n)\./g, '$1..');
}

const ASCII = /^[\x20-\x7e]*$/;

/** RFC 2047 B-encoding in words of at most 75 characters, folded; ASCII text stays as it is. */
export function encodeHeaderWord(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  if (ASCII.test(clean) && clean.length <= 900) return clean;
  const words: string[] = [];
  let chunk = '';
  let bytes = 0;
  for (const ch of clean) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > 45) {
      words.push(chunk);
      chunk = '';
      bytes = 0;
    }
    chunk += ch;
    bytes += b;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

function checkAddress(a: string): string {
  if (!/^[^\s<>()",;:\\[\]]+@[^\s<>()",;:\\[\]]+$/.test(a)) {
    throw new NotifyError('NOTIFY_SMTP', `invalid e-mail address ${JSON.stringify(a)}`, false);
  }
  return a;
}

function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/** The message text (headers and body, CRLF, not yet dot-stuffed). */
export function buildMessage(mail: MailOptions, eightBit: boolean): string {
  const from = checkAddress(mail.from);
  const fromHeader = mail.fromName
    ? `${ASCII.test(mail.fromName) ? `"${mail.fromName.replace(/["\\]/g, '')}"` : encodeHeaderWord(mail.fromName)} <${from}>`
    : from;
  const body = mail.text.replace(/\r?\n/g, '\r\n');
  const longLine = body.split('\r\n').some((l) => Buffer.byteLength(l) > 998);
  const use8bit = eightBit && !longLine;
  const headers = [
    `From: ${fromHeader}`,
    `To: ${mail.to.map(checkAddress).join(', ')}`,
    `Subject: ${encodeHeaderWord(mail.subject)}`,
    `Date: ${rfc5322Date(mail.date)}`,
    `Message-ID: <${mail.messageId.replace(/[<>\s]/g, '')}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    `Content-Transfer-Encoding: ${use8bit ? '8bit' : 'base64'}`,
    'Auto-Submitted: auto-generated',
  ];
  const encoded = use8bit
    ? body
    : (
        Buffer.from(body)
          .toString('base64')
          .match(/.{1,76}/g) ?? []
      ).join('\r\n');
  return `${headers.join('\r\n')}\r\n\r\n${encoded}`;
}

class Session {
  private socket: net.Socket;
  private buf = Buffer.alloc(0);
  private pending: string[] = [];
  private replies: Reply[] = [];
  private waiter: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly onData = (chunk: Buffer) => this.feed(chunk);
  private readonly onError = (err: Error) => this.fail(err);
  private readonly onClose = () => this.fail(new Error('connection closed by the server'));

  constructor(
    socket: net.Socket,
    private readonly opts: SmtpOptions,
  ) {
    this.socket = socket;
    this.attach();
  }

  get encrypted(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  private attach(): void {
    this.socket.on('data', this.onData);
    this.socket.on('error', this.onError);
    this.socket.on('close', this.onClose);
  }

  private detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = new NotifyError(
      'NOTIFY_NETWORK',
      `SMTP ${this.opts.host}:${this.opts.port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
      true,
      { host: this.opts.host, port: this.opts.port },
      { cause: err },
    );
    this.waiter?.reject(this.failure);
    this.waiter = null;
  }

  private feed(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl < 0) break;
      const line = this.buf.subarray(0, nl).toString('utf8').replace(/\r$/, '');
      this.buf = this.buf.subarray(nl + 1);
      this.pending.push(line);
      const m = /^(\d{3})([ -]|$)/.exec(line);
      if (m && m[2] !== '-') {
        const reply = { code: Number(m[1]), lines: this.pending.map((l) => l.slice(4)) };
        this.pending = [];
        if (this.waiter) {
          this.waiter.resolve(reply);
          this.waiter = null;
        } else {
          this.replies.push(reply);
        }
      }
    }
  }

  read(step: string): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(
          new NotifyError('NOTIFY_TIMEOUT', `SMTP ${step}: no reply within ${this.opts.timeoutMs} ms`, true),
        );
        this.socket.destroy();
      }, this.opts.timeoutMs);
      this.waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Sends a command line and reads the reply; `step` names it in errors (never the credentials). */
  async command(line: string, step: string, expect: number[]): Promise<Reply> {
    if (this.failure) throw this.failure;
    this.socket.write(`${line}\r\n`);
    const r = await this.read(step);
    if (!expect.includes(r.code)) throw smtpError(step, r);
    return r;
  }

  async upgrade(): Promise<void> {
    if (this.buf.length > 0 || this.replies.length > 0) {
      throw new NotifyError('NOTIFY_SMTP', 'SMTP STARTTLS: data after the 220 reply (injection?)', false);
    }
    this.detach();
    const plain = this.socket;
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ servername: this.opts.host, ...this.opts.tls, socket: plain }, () =>
        resolve(s),
      );
      s.once('error', reject);
      s.setTimeout(this.opts.timeoutMs, () => s.destroy(new Error('TLS handshake timed out')));
    }).catch((err: Error) => {
      throw new NotifyError('NOTIFY_NETWORK', `SMTP STARTTLS: ${err.message}`, true, undefined, {
        cause: err,
      });
    });
    secure.setTimeout(0);
    this.socket = secure;
    this.attach();
  }

  end(): void {
    this.detach();
    this.socket.on('error', () => {});
    this.socket.end();
    this.socket.destroy();
  }
}

function connect(opts: SmtpOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(
        new NotifyError(
          'NOTIFY_NETWORK',
          `SMTP ${opts.host}:${opts.port}: ${err.code ?? err.message}`,
          true,
          { host: opts.host, port: opts.port, ...(err.code ? { errno: err.code } : {}) },
          { cause: err },
        ),
      );
    const s: net.Socket = opts.secure
      ? tls.connect({ host: opts.host, port: opts.port, servername: opts.host, ...opts.tls }, () => done())
      : net.connect({ host: opts.host, port: opts.port }, () => done());
    const timer = setTimeout(() => {
      s.destroy();
      reject(new NotifyError('NOTIFY_TIMEOUT', `SMTP ${opts.host}:${opts.port}: connect timed out`, true));
    }, opts.timeoutMs);
    s.once('error', onError);
    function done() {
      clearTimeout(timer);
      s.off('error', onError);
      resolve(s);
    }
  });
}

function extensions(r: Reply): Map<string, string> {
  const ext = new Map<string, string>();
  for (const l of r.lines.slice(1)) {
    const [k, ...rest] = l.trim().split(/\s+/);
    if (k) ext.set(k.toUpperCase(), rest.join(' ').toUpperCase());
  }
  return ext;
}

async function authenticate(s: Session, opts: SmtpOptions, ext: Map<string, string>): Promise<void> {
  if (!opts.user) return;
  if (!s.encrypted && !opts.allowInsecureAuth) {
    throw new NotifyError('NOTIFY_SMTP', 'SMTP AUTH refused over an unencrypted connection', false);
  }
  const methods = (ext.get('AUTH') ?? '').split(/\s+/);
  const password = opts.password ?? '';
  if (methods.includes('PLAIN') || !methods.includes('LOGIN')) {
    const token = Buffer.from(`\0${opts.user}\0${password}`).toString('base64');
    await s.command(`AUTH PLAIN ${token}`, 'AUTH PLAIN', [235]);
    return;
  }
  await s.command('AUTH LOGIN', 'AUTH LOGIN', [334]);
  await s.command(Buffer.from(opts.user).toString('base64'), 'AUTH LOGIN user', [334]);
  await s.command(Buffer.from(password).toString('base64'), 'AUTH LOGIN password', [235]);
}

export async function sendMail(opts: SmtpOptions, mail: MailOptions): Promise<SendResult> {
  if (mail.to.length === 0) throw new NotifyError('NOTIFY_NO_RECIPIENTS', 'e-mail without recipients', false);
  const s = new Session(await connect(opts), opts);
  try {
    const greet = await s.read('greeting');
    if (greet.code !== 220) throw smtpError('greeting', greet);
    let ext = extensions(await s.command(`EHLO ${opts.heloName}`, 'EHLO', [250]));
    if (!opts.secure && opts.starttls !== 'never') {
      if (ext.has('STARTTLS')) {
        await s.command('STARTTLS', 'STARTTLS', [220]);
        await s.upgrade();
        ext = extensions(await s.command(`EHLO ${opts.heloName}`, 'EHLO', [250]));
      } else if (opts.starttls === 'required') {
        throw new NotifyError('NOTIFY_SMTP', 'SMTP server does not offer STARTTLS (required)', false);
      }
    }
    await authenticate(s, opts, ext);
    const eightBit = ext.has('8BITMIME');
    await s.command(
      `MAIL FROM:<${checkAddress(mail.from)}>${eightBit ? ' BODY=8BITMIME' : ''}`,
      'MAIL FROM',
      [250],
    );
    const result: SendResult = { accepted: [], rejected: [] };
    for (const rcpt of mail.to) {
      const r = await s.command(`RCPT TO:<${checkAddress(rcpt)}>`, 'RCPT TO', [250, 251]).then(
        (x) => x,
        (e: NotifyError) => e,
      );
      if (r instanceof NotifyError) {
        if (!r.details || typeof r.details.smtpCode !== 'number') throw r;
        result.rejected.push({ address: rcpt, code: r.details.smtpCode, text: r.message });
      } else {
        result.accepted.push(rcpt);
      }
    }
    if (result.accepted.length === 0) {
      const retry = result.rejected.some((x) => x.code < 500);
      throw new NotifyError('NOTIFY_SMTP', 'SMTP RCPT TO: every recipient refused', retry, {
        rejected: result.rejected.map((x) => `${x.address} ${x.code}`),
      });
    }
    await s.command('DATA', 'DATA', [354]);
    const data = dotStuff(buildMessage({ ...mail, to: mail.to }, eightBit));
    await s.command(`${data}\r\n.`, 'DATA end', [250]);
    await s.command('QUIT', 'QUIT', [221]).catch(() => undefined);
    return result;
  } finally {
    s.end();
  }
}
