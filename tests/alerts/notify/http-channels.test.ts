import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DingTalkChannel } from '../../../alerts/notify/dingtalk.js';
import { HttpJsonSmsProvider, SmsChannel } from '../../../alerts/notify/sms.js';
import { NotifyError } from '../../../alerts/notify/types.js';
import { verifyWebhookSignature, WebhookChannel } from '../../../alerts/notify/webhook.js';
import { WeComChannel } from '../../../alerts/notify/wecom.js';
import { ManualClock } from '../../../lib/clock.js';
import { makeNotification, messageOf, T0 } from './helpers/alerts.js';
import { deadPort, type FakeHttp, startFakeHttp } from './helpers/fake-http.js';

const format = { baseUrl: 'https://cw.example.org/', siteName: () => '阳光养老院' };
let fakes: FakeHttp[] = [];
async function fake(...args: Parameters<typeof startFakeHttp>): Promise<FakeHttp> {
  const f = await startFakeHttp(...args);
  fakes.push(f);
  return f;
}
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

describe('webhook channel', () => {
  it('POSTs JSON signed with HMAC-SHA256 over timestamp.body', async () => {
    const server = await fake(() => ({ status: 204, body: '' }));
    const clock = new ManualClock(T0 + 5_000);
    const secret = 'webhook-secret-0123456789';
    const ch = new WebhookChannel({
      name: 'hook',
      url: `${server.url}/hooks/carewatch`,
      secret,
      timeoutMs: 2000,
      format,
      clock,
    });
    await ch.send(messageOf([makeNotification()], { id: 'm-42' }));
    expect(server.requests).toHaveLength(1);
    const r = server.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/hooks/carewatch');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['x-carewatch-delivery']).toBe('m-42');
    const ts = r.headers['x-carewatch-timestamp'] as string;
    expect(ts).toBe(String((T0 + 5_000) / 1000));
    const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`;
    expect(r.headers['x-carewatch-signature']).toBe(expected);
    expect(verifyWebhookSignature(secret, ts, r.body, expected, T0 + 6_000)).toBe(true);
    expect(verifyWebhookSignature(secret, ts, `${r.body} `, expected, T0 + 6_000)).toBe(false);
    expect(verifyWebhookSignature(secret, ts, r.body, expected, T0 + 3_600_000)).toBe(false);
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({
      id: 'm-42',
      kind: 'single',
      title: '【紧急】紧急呼叫 Emergency call, room 203 — 阳光养老院',
      link: 'https://cw.example.org/#/alerts/alert-1',
      notifications: [{ dedupKey: 'alert-1:opened:0', change: 'opened', level: 0, levelName: 'on_duty' }],
    });
    expect(body.notifications[0].alert.id).toBe('alert-1');
  });

  it('classifies failures: 500 retryable, 400 final, connection refused retryable', async () => {
    const server = await fake((_r, i) => ({ status: i === 0 ? 500 : 400, body: 'nope' }));
    const clock = new ManualClock();
    const mk = (url: string) => new WebhookChannel({ name: 'h', url, timeoutMs: 2000, format, clock });
    const m = messageOf([makeNotification()]);
    const e1 = await mk(server.url)
      .send(m)
      .catch((e) => e);
    expect(e1).toBeInstanceOf(NotifyError);
    expect(e1).toMatchObject({ code: 'NOTIFY_HTTP_STATUS', retryable: true });
    const e2 = await mk(server.url)
      .send(m)
      .catch((e) => e);
    expect(e2).toMatchObject({ code: 'NOTIFY_HTTP_STATUS', retryable: false });
    const e3 = await mk(`http://127.0.0.1:${await deadPort()}/x`)
      .send(m)
      .catch((e) => e);
    expect(e3).toMatchObject({ code: 'NOTIFY_NETWORK', retryable: true });
    expect(e3.message).toContain('ECONNREFUSED');
  });
});

describe('DingTalk channel', () => {
  it('signed markdown message: path, access_token, timestamp, sign, body', async () => {
    const server = await fake();
    const clock = new ManualClock(T0 + 1234);
    const secret = 'SECabcdef0123456789';
    const ch = new DingTalkChannel({
      name: 'ding',
      baseUrl: server.url,
      accessToken: 'tok+en/1',
      secret,
      msgtype: 'markdown',
      atAllSeverities: ['critical'],
      timeoutMs: 2000,
      format,
      clock,
    });
    await ch.send(messageOf([makeNotification()], { recipients: ['13800000000'] }));
    const r = server.requests[0]!;
    expect(r.path).toBe('/robot/send');
    expect(r.query.get('access_token')).toBe('tok+en/1');
    const ts = r.query.get('timestamp');
    expect(ts).toBe(String(T0 + 1234));
    // computed independently: base64(HMAC-SHA256(key=secret, ts + "\n" + secret))
    const sign = createHmac('sha256', Buffer.from(secret, 'utf8'))
      .update(Buffer.from(`${ts}\n${secret}`, 'utf8'))
      .digest('base64');
    expect(r.query.get('sign')).toBe(sign);
    expect(r.rawUrl).toBe(
      `/robot/send?access_token=${encodeURIComponent('tok+en/1')}&timestamp=${ts}&sign=${encodeURIComponent(sign)}`,
    );
    const body = JSON.parse(r.body);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('【紧急】紧急呼叫 Emergency call, room 203 — 阳光养老院');
    expect(body.markdown.text).toContain('### 【紧急】紧急呼叫 Emergency call, room 203 — 阳光养老院');
    expect(body.markdown.text).toContain('[查看告警 Open alert](https://cw.example.org/#/alerts/alert-1)');
    expect(body.markdown.text).toContain('@13800000000');
    expect(body.at).toEqual({ atMobiles: ['13800000000'], isAtAll: true });
  });

  it('keeps the sign URL-encoded on the wire', async () => {
    const server = await fake();
    const clock = new ManualClock(T0);
    // find a timestamp whose signature contains a character that needs encoding
    let t = T0;
    const secret = 'SECzz';
    while (!/[+/=]/.test(createHmac('sha256', secret).update(`${t}\n${secret}`).digest('base64'))) t++;
    clock.advance(t - T0);
    const ch = new DingTalkChannel({
      name: 'ding',
      baseUrl: server.url,
      accessToken: 'a',
      secret,
      msgtype: 'text',
      timeoutMs: 2000,
      format,
      clock,
    });
    await ch.send(messageOf([makeNotification()]));
    const body = JSON.parse(server.requests[0]!.body);
    expect(body.msgtype).toBe('text');
    expect(body.text.content.split('\n')[0]).toBe('【紧急】紧急呼叫 Emergency call, room 203 — 阳光养老院');
    const sign = createHmac('sha256', secret).update(`${t}\n${secret}`).digest('base64');
    expect(server.requests[0]!.rawUrl).toContain(`&sign=${encodeURIComponent(sign)}`);
    expect(server.requests[0]!.query.get('sign')).toBe(sign);
  });

  it('errcode other than 0 is a failure; 130101 (too fast) is retryable, 310000 (bad sign) is not', async () => {
    const server = await fake((_r, i) => ({
      status: 200,
      body:
        i === 0
          ? { errcode: 130101, errmsg: 'send too fast' }
          : { errcode: 310000, errmsg: 'sign not match' },
    }));
    const ch = new DingTalkChannel({
      name: 'ding',
      baseUrl: server.url,
      accessToken: 'secret-token',
      msgtype: 'markdown',
      timeoutMs: 2000,
      format,
      clock: new ManualClock(),
    });
    const m = messageOf([makeNotification()]);
    const e1 = await ch.send(m).catch((e) => e);
    expect(e1).toMatchObject({ code: 'NOTIFY_REJECTED', retryable: true });
    const e2 = await ch.send(m).catch((e) => e);
    expect(e2).toMatchObject({ code: 'NOTIFY_REJECTED', retryable: false });
    expect(e2.message).not.toContain('secret-token');
    expect(server.requests[0]!.query.has('sign')).toBe(false);
  });
});

describe('WeCom channel', () => {
  it('POSTs markdown to /cgi-bin/webhook/send?key=…', async () => {
    const server = await fake();
    const ch = new WeComChannel({
      name: 'wecom',
      baseUrl: server.url,
      key: 'k-123',
      msgtype: 'markdown',
      timeoutMs: 2000,
      format,
    });
    await ch.send(messageOf([makeNotification({ escalationLevel: 1 }, 'escalated', 'institution_head')]));
    const r = server.requests[0]!;
    expect(r.path).toBe('/cgi-bin/webhook/send');
    expect(r.query.get('key')).toBe('k-123');
    const body = JSON.parse(r.body);
    expect(Object.keys(body).sort()).toEqual(['markdown', 'msgtype']);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content).toContain(
      '### 【紧急】[已升级 escalated] 紧急呼叫 Emergency call, room 203 — 阳光养老院',
    );
    expect(body.markdown.content).toContain('L1 机构负责人 institution head');
    expect(Buffer.byteLength(body.markdown.content)).toBeLessThanOrEqual(4096);
  });

  it('errcode 93000 (invalid key) fails for good, 45009 is retried', async () => {
    const server = await fake((_r, i) => ({
      status: 200,
      body: { errcode: i === 0 ? 93000 : 45009, errmsg: 'x' },
    }));
    const ch = new WeComChannel({
      name: 'wecom',
      baseUrl: server.url,
      key: 'k',
      msgtype: 'markdown',
      timeoutMs: 2000,
      format,
    });
    const m = messageOf([makeNotification()]);
    await expect(ch.send(m)).rejects.toMatchObject({ code: 'NOTIFY_REJECTED', retryable: false });
    await expect(ch.send(m)).rejects.toMatchObject({ code: 'NOTIFY_REJECTED', retryable: true });
  });
});

describe('SMS channel with the HTTP JSON provider', () => {
  it('sends the short text to each phone with a bearer token; a retry skips phones already served', async () => {
    const server = await fake((req) => {
      const { to } = JSON.parse(req.body);
      return to === '+8613900000002' && server.requests.filter((x) => x.body.includes(to)).length === 1
        ? { status: 503, body: { ok: false } }
        : { status: 200, body: { ok: true, id: 'sms-1' } };
    });
    const ch = new SmsChannel({
      name: 'sms',
      to: ['+8613900000001', '+8613900000002'],
      maxBytes: 300,
      format,
      provider: new HttpJsonSmsProvider({ url: `${server.url}/sms`, token: 'sms-token', timeoutMs: 2000 }),
    });
    const m = messageOf([makeNotification()]);
    await expect(ch.send(m)).rejects.toMatchObject({ retryable: true });
    await ch.send(m);
    const bodies = server.requests.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.to).sort()).toEqual(['+8613900000001', '+8613900000002', '+8613900000002']);
    for (const r of server.requests) {
      expect(r.path).toBe('/sms');
      expect(r.headers.authorization).toBe('Bearer sms-token');
    }
    expect(bodies[0].text).toBe(
      '【紧急】紧急呼叫 Emergency call, room 203 — 阳光养老院; 未处理 open https://cw.example.org/#/alerts/alert-1',
    );
  });

  it('a reply {ok:false} with 200 is a final refusal', async () => {
    const server = await fake(() => ({ status: 200, body: { ok: false, code: 17, message: 'blacklisted' } }));
    const p = new HttpJsonSmsProvider({ url: server.url, timeoutMs: 2000 });
    await expect(p.send('+8613900000001', 'x')).rejects.toMatchObject({
      code: 'NOTIFY_REJECTED',
      retryable: false,
    });
  });
});
