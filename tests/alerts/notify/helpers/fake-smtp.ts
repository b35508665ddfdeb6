import net from 'node:net';
import tls from 'node:tls';

/** What one SMTP session told the fake. */
export interface SmtpSession {
  ehlo: string[];
  tls: boolean;
  auth: { method: string; user: string; password: string } | null;
  mailFrom: string | null;
  rcptTo: string[];
  /** The message after removing the dot-stuffing, CRLF line ends. */
  data: string | null;
  /** Raw DATA lines as received (still stuffed). */
  rawData: string[];
  commands: string[];
  quit: boolean;
}

export interface FakeSmtpOptions {
  extensions?: string[];
  /** Accepted credentials; AUTH fails with 535 otherwise. */
  credentials?: { user: string; password: string };
  /** RCPT TO answers per address, e.g. `{ 'bad@x.org': '550 no such user' }`. */
  rcptReplies?: Record<string, string>;
  /** With key and cert, STARTTLS is offered and performed. */
  tls?: { key: string; cert: string };
}

export interface FakeSmtp {
  port: number;
  sessions: SmtpSession[];
  close(): Promise<void>;
}

/** A tiny line-based SMTP responder on 127.0.0.1 that records what it is told. */
export async function startFakeSmtp(opts: FakeSmtpOptions = {}): Promise<FakeSmtp> {
  const sessions: SmtpSession[] = [];
  const sockets = new Set<net.Socket>();
  const ext = opts.extensions ?? ['8BITMIME', 'AUTH PLAIN LOGIN', ...(opts.tls ? ['STARTTLS'] : [])];
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => {});
    const s: SmtpSession = {
      ehlo: [],
      tls: false,
      auth: null,
      mailFrom: null,
      rcptTo: [],
      data: null,
      rawData: [],
      commands: [],
      quit: false,
    };
    sessions.push(s);
    let socket: net.Socket = raw;
    let buf = '';
    let mode: 'cmd' | 'data' | 'login-user' | 'login-pass' = 'cmd';
    let loginUser = '';
    const send = (line: string) => socket.write(`${line}\r\n`);
    const checkAuth = (method: string, user: string, password: string) => {
      s.auth = { method, user, password };
      const ok =
        !opts.credentials || (opts.credentials.user === user && opts.credentials.password === password);
      send(ok ? '235 2.7.0 Authentication successful' : '535 5.7.8 Authentication credentials invalid');
    };
    const onLine = (line: string) => {
      if (mode === 'data') {
        if (line === '.') {
          mode = 'cmd';
          s.data = s.rawData.map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n');
          send('250 2.0.0 queued as FAKE1');
        } else {
          s.rawData.push(line);
        }
        return;
      }
      if (mode === 'login-user') {
        loginUser = Buffer.from(line, 'base64').toString('utf8');
        mode = 'login-pass';
        send(`334 ${Buffer.from('Password:').toString('base64')}`);
        return;
      }
      if (mode === 'login-pass') {
        mode = 'cmd';
        checkAuth('LOGIN', loginUser, Buffer.from(line, 'base64').toString('utf8'));
        return;
      }
      s.commands.push(line.startsWith('AUTH') ? line.split(' ').slice(0, 2).join(' ') : line);
      const [verb = '', ...rest] = line.split(' ');
      switch (verb.toUpperCase()) {
        case 'EHLO':
          s.ehlo.push(rest.join(' '));
          {
            const lines = ['fake.test greets you', ...ext.filter((e) => !(s.tls && e === 'STARTTLS'))];
            socket.write(lines.map((l, i) => `${i === lines.length - 1 ? '250 ' : '250-'}${l}\r\n`).join(''));
          }
          return;
        case 'STARTTLS': {
          if (!opts.tls) return send('502 5.5.1 not supported');
          send('220 2.0.0 ready to start TLS');
          raw.removeAllListeners('data');
          const secure = new tls.TLSSocket(raw, { isServer: true, key: opts.tls.key, cert: opts.tls.cert });
          secure.on('error', () => {});
          secure.on('data', (c: Buffer) => feed(c));
          socket = secure;
          s.tls = true;
          return;
        }
        case 'AUTH': {
          const method = (rest[0] ?? '').toUpperCase();
          if (method === 'PLAIN') {
            const [, user = '', password = ''] = Buffer.from(rest[1] ?? '', 'base64')
              .toString('utf8')
              .split('\0');
            return checkAuth('PLAIN', user, password);
          }
          if (method === 'LOGIN') {
            mode = 'login-user';
            return send(`334 ${Buffer.from('Username:').toString('base64')}`);
          }
          return send('504 5.5.4 unrecognized authentication type');
        }
        case 'MAIL':
          s.mailFrom = /^MAIL FROM:<([^>]*)>/i.exec(line)?.[1] ?? null;
          return send('250 2.1.0 ok');
        case 'RCPT': {
          const addr = /^RCPT TO:<([^>]*)>/i.exec(line)?.[1] ?? '';
          const reply = opts.rcptReplies?.[addr];
          if (reply) return send(reply);
          s.rcptTo.push(addr);
          return send('250 2.1.5 ok');
        }
        case 'DATA':
          mode = 'data';
          return send('354 end data with <CR><LF>.<CR><LF>');
        case 'QUIT':
          s.quit = true;
          send('221 2.0.0 bye');
          socket.end();
          return;
        default:
          return send('500 5.5.2 unknown command');
      }
    };
    const feed = (c: Buffer) => {
      buf += c.toString('utf8');
      for (;;) {
        const i = buf.indexOf('\r\n');
        if (i < 0) break;
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        onLine(line);
      }
    };
    raw.on('data', feed);
    send('220 fake.test ESMTP ready');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
