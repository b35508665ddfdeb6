/** SOAP helpers, WS-UsernameToken checks and WS-Discovery matching, without sockets. */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { NonceCache, passwordDigest, verifyUsernameToken } from '../../../simulators/onvif/auth.js';
import { scopesMatch, typesMatch } from '../../../simulators/onvif/discovery.js';
import { PullPointManager } from '../../../simulators/onvif/events.js';
import {
  attrOf,
  fault,
  operationOf,
  parseDurationMs,
  textOf,
  xmlEscape,
} from '../../../simulators/onvif/soap.js';

const USERS = [{ username: 'admin', password: 'pa<ss' }];

function tokenXml(
  user: string,
  password: string,
  created: string,
  nonce = randomBytes(16),
  type = 'PasswordDigest',
): string {
  const pw = type === 'PasswordDigest' ? passwordDigest(nonce, created, password) : xmlEscape(password);
  return (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>' +
    '<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">' +
    `<UsernameToken><Username>${user}</Username>` +
    `<Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#${type}">${pw}</Password>` +
    `<Nonce EncodingType="...#Base64Binary">${nonce.toString('base64')}</Nonce>` +
    `<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created>` +
    '</UsernameToken></Security></s:Header><s:Body><GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/></s:Body></s:Envelope>'
  );
}

describe('WS-UsernameToken', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  const created = new Date(now - 1000).toISOString();

  test('a correct digest passes; wrong password, user, stale Created or a replayed nonce fail', () => {
    expect(verifyUsernameToken(tokenXml('admin', 'pa<ss', created), USERS, { now })).toBe('ok');
    expect(verifyUsernameToken(tokenXml('admin', 'wrong', created), USERS, { now })).toBe('invalid');
    expect(verifyUsernameToken(tokenXml('root', 'pa<ss', created), USERS, { now })).toBe('invalid');
    const stale = new Date(now - 10 * 60_000).toISOString();
    expect(verifyUsernameToken(tokenXml('admin', 'pa<ss', stale), USERS, { now })).toBe('invalid');
    const seen = new NonceCache();
    const xml = tokenXml('admin', 'pa<ss', created);
    expect(verifyUsernameToken(xml, USERS, { now, seenNonces: seen })).toBe('ok');
    expect(verifyUsernameToken(xml, USERS, { now, seenNonces: seen })).toBe('invalid');
    expect(verifyUsernameToken('<s:Envelope><s:Body><GetProfiles/></s:Body></s:Envelope>', USERS)).toBe(
      'missing',
    );
    expect(
      verifyUsernameToken(tokenXml('admin', 'pa<ss', created, randomBytes(16), 'PasswordText'), USERS, {
        now,
      }),
    ).toBe('ok');
  });

  test('digest verification agrees with the definition for any password', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[<&]/.test(s)),
        fc.uint8Array({ minLength: 8, maxLength: 24 }),
        (pw, nonce) => {
          const users = [{ username: 'u', password: pw }];
          expect(verifyUsernameToken(tokenXml('u', pw, created, Buffer.from(nonce)), users, { now })).toBe(
            'ok',
          );
          expect(
            verifyUsernameToken(tokenXml('u', `${pw}x`, created, Buffer.from(nonce)), users, { now }),
          ).toBe('invalid');
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('SOAP helpers', () => {
  test('operation, text and attributes whatever the prefix', () => {
    const xml =
      '<env:Envelope><env:Header/><env:Body><trt:GetStreamUri><trt:ProfileToken>p&amp;1</trt:ProfileToken><x:Scopes MatchBy="m"/></trt:GetStreamUri></env:Body></env:Envelope>';
    expect(operationOf(xml)).toBe('GetStreamUri');
    expect(textOf(xml, 'ProfileToken')).toBe('p&1');
    expect(textOf(xml, 'Scopes')).toBe('');
    expect(attrOf(xml, 'Scopes', 'MatchBy')).toBe('m');
    expect(textOf(xml, 'Missing')).toBeUndefined();
    expect(fault('Sender', ['ter:NotAuthorized'], 'no').xml).toContain(
      '<s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode>',
    );
  });

  test('durations', () => {
    expect(parseDurationMs('PT1M')).toBe(60_000);
    expect(parseDurationMs('PT10.5S')).toBe(10_500);
    expect(parseDurationMs('P1DT1H')).toBe(25 * 3_600_000);
    expect(parseDurationMs('2025-06-01T12:01:00Z', Date.parse('2025-06-01T12:00:00Z'))).toBe(60_000);
    expect(parseDurationMs('PT')).toBeUndefined();
    expect(parseDurationMs('soon')).toBeUndefined();
  });
});

describe('WS-Discovery matching', () => {
  const scopes = ['onvif://www.onvif.org/name/cam1', 'onvif://www.onvif.org/location/entrance'];
  test('types by local name, scopes by RFC 3986 segment prefix or exact', () => {
    expect(typesMatch([], ['dn:NetworkVideoTransmitter'])).toBe(true);
    expect(typesMatch(['tdn:NetworkVideoTransmitter'], ['dn:NetworkVideoTransmitter', 'tds:Device'])).toBe(
      true,
    );
    expect(typesMatch(['dn:NetworkVideoDisplay'], ['dn:NetworkVideoTransmitter'])).toBe(false);
    const rfc = 'http://schemas.xmlsoap.org/ws/2005/04/discovery/rfc3986';
    expect(scopesMatch(['onvif://www.onvif.org/location'], scopes, rfc)).toBe(true);
    expect(scopesMatch(['onvif://www.onvif.org/location/entr'], scopes, rfc)).toBe(false);
    expect(
      scopesMatch(
        ['onvif://www.onvif.org/location/entrance'],
        scopes,
        'http://schemas.xmlsoap.org/ws/2005/04/discovery/strcmp0',
      ),
    ).toBe(true);
    expect(
      scopesMatch(
        ['onvif://www.onvif.org/location'],
        scopes,
        'http://schemas.xmlsoap.org/ws/2005/04/discovery/strcmp0',
      ),
    ).toBe(false);
  });
});

describe('PullPoint subscriptions', () => {
  test('bounded count, initial state, long poll woken by an event, expiry', async () => {
    const m = new PullPointManager({ maxSubscriptions: 2 });
    const a = m.create(60_000)!;
    expect(m.create(60_000)).toBeDefined();
    expect(m.create(60_000)).toBeUndefined();
    expect((await m.pull(a.id, 0, 10))!.messages.map((x) => x.operation)).toEqual([
      'Initialized',
      'Initialized',
    ]);
    const t0 = Date.now();
    const pending = m.pull(a.id, 5000, 10);
    setTimeout(() => m.publish('motion', true), 50);
    const r = (await pending)!;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.messages).toMatchObject([{ kind: 'motion', state: true, operation: 'Changed' }]);
    expect(m.renew(a.id, 1)).toBeDefined();
    await new Promise((res) => setTimeout(res, 5));
    expect(await m.pull(a.id, 0, 10)).toBeUndefined();
  });
});
