import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmailChannel } from '../../../alerts/notify/email.js';
import { dotStuff, encodeHeaderWord, type SmtpOptions, sendMail } from '../../../alerts/notify/smtp.js';
import { ManualClock } from '../../../lib/clock.js';
import { makeNotification, messageOf, T0 } from './helpers/alerts.js';
import { deadPort } from './helpers/fake-http.js';
import { type FakeSmtp, type FakeSmtpOptions, startFakeSmtp } from './helpers/fake-smtp.js';

let servers: FakeSmtp[] = [];
async function smtp(opts?: FakeSmtpOptions): Promise<FakeSmtp> {
  const s = await startFakeSmtp(opts);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const base = (port: number, over: Partial<SmtpOptions> = {}): SmtpOptions => ({
  host: '127.0.0.1',
  port,
  secure: false,
  starttls: 'never',
  heloName: 'central.test',
  timeoutMs: 3000,
  ...over,
});

function headersOf(data: string): Map<string, string> {
  const head = data.slice(0, data.indexOf('\r\n\r\n'));
  const unfolded = head.replace(/\r\n[ \t]+/g, ' ');
  return new Map(
    unfolded
      .split('\r\n')
      .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 2)]),
  );
}

function decodeWords(v: string): string {
  return v
    .split(' ')
    .map((w) => {
      const m = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/.exec(w);
      if (!m) throw new Error(`not an encoded word: ${w}`);
      return Buffer.from(m[1]!, 'base64');
    })
    .reduce((acc, b) => Buffer.concat([acc, b]), Buffer.alloc(0))
    .toString('utf8');
}

describe('SMTP client', () => {
  it('envelope, AUTH PLAIN, RFC 2047 subject, 8bit body with dot-stuffing, QUIT', async () => {
    const server = await smtp({ credentials: { user: 'alerts', password: 'pa ss\u00e9' } });
    const text = 'line one\n.starts with a dot\n..two dots\n中文 正文';
    const subject =
      '【紧急】紧急呼叫 Emergency call, room 203 — 阳光养老院 with a long tail to force folding';
    const r = await sendMail(
      base(server.port, { user: 'alerts', password: 'pa ss\u00e9', allowInsecureAuth: true }),
      {
        from: 'carewatch@example.org',
        fromName: '看护告警 Carewatch',
        to: ['a@example.org', 'b@example.org'],
        subject,
        text,
        messageId: 'm1@central.test',
        date: new Date(T0),
      },
    );
    expect(r.accepted).toEqual(['a@example.org', 'b@example.org']);
    const s = server.sessions[0]!;
    expect(s.ehlo).toEqual(['central.test']);
    expect(s.auth).toEqual({ method: 'PLAIN', user: 'alerts', password: 'pa ss\u00e9' });
    expect(s.commands).toContain('MAIL FROM:<carewatch@example.org> BODY=8BITMIME');
    expect(s.mailFrom).toBe('carewatch@example.org');
    expect(s.rcptTo).toEqual(['a@example.org', 'b@example.org']);
    expect(s.quit).toBe(true);
    // stuffed on the wire, unstuffed by the server
    expect(s.rawData).toContain('..starts with a dot');
    expect(s.rawData).toContain('...two dots');
    const h = headersOf(s.data!);
    expect(decodeWords(h.get('subject')!)).toBe(subject);
    for (const line of s.data!.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
    for (const w of s.rawData.join('\n').match(/=\?UTF-8\?B\?[^?]*\?=/g)!)
      expect(w.length).toBeLessThanOrEqual(75);
    expect(h.get('from')).toMatch(/^=\?UTF-8\?B\?.*\?= <carewatch@example.org>$/);
    expect(decodeWords(h.get('from')!.replace(/ <.*$/, ''))).toBe('看护告警 Carewatch');
    expect(h.get('to')).toBe('a@example.org, b@example.org');
    expect(h.get('date')).toBe('Thu, 01 Jan 2026 00:00:00 +0000');
    expect(h.get('message-id')).toBe('<m1@central.test>');
    expect(h.get('mime-version')).toBe('1.0');
    expect(h.get('content-type')).toBe('text/plain; charset=UTF-8');
    expect(h.get('content-transfer-encoding')).toBe('8bit');
    expect(s.data!.slice(s.data!.indexOf('\r\n\r\n') + 4)).toBe(text.replace(/\n/g, '\r\n'));
  });

  it('AUTH LOGIN when PLAIN is not offered; base64 body without 8BITMIME', async () => {
    const server = await smtp({ extensions: ['AUTH LOGIN'], credentials: { user: 'u', password: 'p' } });
    await sendMail(base(server.port, { user: 'u', password: 'p', allowInsecureAuth: true }), {
      from: 'a@x.org',
      to: ['b@x.org'],
      subject: 'plain ascii',
      text: 'héllo\n.dot',
      messageId: 'm@x',
      date: new Date(T0),
    });
    const s = server.sessions[0]!;
    expect(s.auth).toEqual({ method: 'LOGIN', user: 'u', password: 'p' });
    expect(s.commands).toContain('MAIL FROM:<a@x.org>');
    const h = headersOf(s.data!);
    expect(h.get('subject')).toBe('plain ascii');
    expect(h.get('content-transfer-encoding')).toBe('base64');
    const body = s.data!.slice(s.data!.indexOf('\r\n\r\n') + 4);
    expect(Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString('utf8')).toBe('héllo\r\n.dot');
  });

  it('refuses AUTH over plain text, wrong credentials (5xx) are final', async () => {
    const server = await smtp({ credentials: { user: 'u', password: 'right' } });
    const mail = {
      from: 'a@x.org',
      to: ['b@x.org'],
      subject: 's',
      text: 't',
      messageId: 'm@x',
      date: new Date(T0),
    };
    await expect(sendMail(base(server.port, { user: 'u', password: 'p' }), mail)).rejects.toMatchObject({
      code: 'NOTIFY_SMTP',
      retryable: false,
    });
    const err = await sendMail(
      base(server.port, { user: 'u', password: 'wrong', allowInsecureAuth: true }),
      mail,
    ).catch((e) => e);
    expect(err).toMatchObject({ code: 'NOTIFY_SMTP', retryable: false, details: { smtpCode: 535 } });
    expect(err.message).not.toContain('wrong');
    expect(server.sessions[1]!.mailFrom).toBeNull();
  });

  it('STARTTLS required but not offered fails; connection refused is retryable', async () => {
    const server = await smtp({ extensions: ['8BITMIME'] });
    const mail = {
      from: 'a@x.org',
      to: ['b@x.org'],
      subject: 's',
      text: 't',
      messageId: 'm@x',
      date: new Date(T0),
    };
    await expect(sendMail(base(server.port, { starttls: 'required' }), mail)).rejects.toMatchObject({
      retryable: false,
    });
    await expect(sendMail(base(await deadPort()), mail)).rejects.toMatchObject({
      code: 'NOTIFY_NETWORK',
      retryable: true,
    });
  });

  it('STARTTLS upgrade, then EHLO again and AUTH over TLS', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-smtp-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-subj',
          '/CN=localhost',
          '-days',
          '1',
          '-keyout',
          join(dir, 'k.pem'),
          '-out',
          join(dir, 'c.pem'),
        ],
        { stdio: 'ignore' },
      );
    } catch {
      rmSync(dir, { recursive: true, force: true });
      ctx.skip();
    }
    const key = readFileSync(join(dir, 'k.pem'), 'utf8');
    const cert = readFileSync(join(dir, 'c.pem'), 'utf8');
    rmSync(dir, { recursive: true, force: true });
    const server = await smtp({ tls: { key, cert }, credentials: { user: 'u', password: 'p' } });
    await sendMail(
      base(server.port, {
        starttls: 'required',
        user: 'u',
        password: 'p',
        tls: { ca: cert, servername: 'localhost' },
      }),
      { from: 'a@x.org', to: ['b@x.org'], subject: 's', text: 't', messageId: 'm@x', date: new Date(T0) },
    );
    const s = server.sessions[0]!;
    expect(s.tls).toBe(true);
    expect(s.ehlo).toEqual(['central.test', 'central.test']);
    expect(s.commands.slice(0, 3)).toEqual(['EHLO central.test', 'STARTTLS', 'EHLO central.test']);
    expect(s.auth?.method).toBe('PLAIN');
    expect(s.data).toContain('Subject: s');
  });

  it('helpers: dot-stuffing and header words', () => {
    expect(dotStuff('.a\r\nb\r\n.\r\n..c')).toBe('..a\r\nb\r\n..\r\n...c');
    expect(encodeHeaderWord('ascii only')).toBe('ascii only');
    expect(encodeHeaderWord('x\r\nBcc: evil@x.org')).toBe('x Bcc: evil@x.org');
    expect(decodeWords(encodeHeaderWord('紧急'.repeat(40)).replace(/\r\n /g, ' '))).toBe('紧急'.repeat(40));
  });
});

describe('e-mail channel', () => {
  it('subject is the headline, body the text; 5xx recipients dropped, 4xx retried alone', async () => {
    const server = await smtp({
      rcptReplies: { 'gone@x.org': '550 5.1.1 no such user', 'later@x.org': '451 4.3.0 try again' },
    });
    const ch = new EmailChannel({
      name: 'mail',
      smtp: base(server.port),
      from: 'carewatch@x.org',
      to: ['ops@x.org', 'gone@x.org', 'later@x.org'],
      format: { siteName: () => '阳光养老院', baseUrl: 'https://cw.example.org' },
      clock: new ManualClock(T0),
    });
    const m = messageOf([makeNotification()]);
    await expect(ch.send(m)).rejects.toMatchObject({ code: 'NOTIFY_SMTP', retryable: true });
    const s = server.sessions[0]!;
    expect(s.rcptTo).toEqual(['ops@x.org']);
    expect(decodeWords(headersOf(s.data!).get('subject')!)).toBe(
      '【紧急】紧急呼叫 Emergency call, room 203 — 阳光养老院',
    );
    expect(s.data).toContain('链接 Link: https://cw.example.org/#/alerts/alert-1');
    expect([...m.done].sort()).toEqual(['gone@x.org', 'ops@x.org']);
    // the retry goes only to the deferred recipient
    await expect(ch.send(m)).rejects.toMatchObject({ retryable: true });
    expect(server.sessions[1]!.commands.filter((c) => c.startsWith('RCPT'))).toEqual([
      'RCPT TO:<later@x.org>',
    ]);
  });
});
