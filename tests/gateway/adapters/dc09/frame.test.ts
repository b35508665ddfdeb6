import { describe, expect, it } from 'vitest';
import { parseKey } from '../../../../gateway/adapters/dc09/crypto.js';
import { buildFrame, type ParseOptions, parseFrame } from '../../../../gateway/adapters/dc09/frame.js';
import { buildAck, buildDuh, buildNak, parseReply } from '../../../../gateway/adapters/dc09/reply.js';

// Golden frames written by hand from the DC-09 message layout; CRCs computed
// with an independent implementation, AES blocks with `openssl enc -nopad`.
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0); // _12:00:00,01-15-2026
const K128 = '000102030405060708090A0B0C0D0E0F';
const K192 = '8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B';
const K256 = '603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4';

const STD_CID = '\n87CD0037"ADM-CID"9876R579BDFL789ABC#12345A[#12345A|1110 00 129]\r';
const STD_SIA = '\nCE110032"SIA-DCS"9876R579BDFL789ABC#12345A[#12345A|NFA129]\r';
const PLAIN_SIA_TS = '\nC67E003C"SIA-DCS"0002R1L1#1234[#1234|Nri1/FA101]_12:00:00,01-15-2026\r';
const PLAIN_NULL = '\n11020013"NULL"0003L0#1234[]\r';
// plaintext: XXXXXXXXX|#1234|1110 01 015]_12:00:00,01-15-2026 (AES-128)
const AES_CID =
  '\n79900078"*ADM-CID"0042R1L1#1234[3CB6C152B4B462D1A2C416AD74C8970DD833905F5788EEFA8DA782C4A2E82BE68D3AB3A0EE1A4BFDA2C8E5D42D0EE3E0\r';
// plaintext: qqqqqqqqqq|#BEEF|Nri2/MA007]_23:59:30,12-31-2025 (AES-256)
const AES_SIA =
  '\nB4C90077"*SIA-DCS"9999L12#BEEF[2F7E1B492ACC410C09DCFAFEBA8FA0F8D527902C71C0EEC7FE8B1BC694A85B40EAD23C97247AB2626F667B811B2E3506\r';
// plaintext: 0000000000|]_08:00:00,06-01-2026 (AES-192)
const AES_NULL =
  '\n150B0052"*NULL"0007L0#ABC[86F515540B5C53F61959D4475E8265AD87328538C119334AB8E92A761F312252\r';

const accounts: Record<string, { key?: Buffer; requireTimestamp?: boolean }> = {
  '12345A': {},
  '1234': {},
  '5678': { requireTimestamp: true },
  BEEF: { key: parseKey(K256) },
  ABC: { key: parseKey(K192) },
};
const opts = (now = T0, extra: Partial<ParseOptions> = {}): ParseOptions => ({
  now,
  lookup: (a) => accounts[a],
  ...extra,
});

function ok(frame: string, o: ParseOptions = opts()) {
  const r = parseFrame(frame, o);
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r.frame;
}

describe('parseFrame: golden frames', () => {
  it('parses the standard ADM-CID example', () => {
    const f = ok(STD_CID);
    expect(f).toMatchObject({
      id: 'ADM-CID',
      encrypted: false,
      seq: '9876',
      receiver: '579BDF',
      prefix: '789ABC',
      account: '12345A',
      data: '#12345A|1110 00 129',
      xdata: [],
      timestamp: null,
      crc: '87CD',
      length: 0x37,
    });
  });

  it('parses the standard SIA-DCS example', () => {
    expect(ok(STD_SIA)).toMatchObject({ id: 'SIA-DCS', data: '#12345A|NFA129', crc: 'CE11', length: 0x32 });
  });

  it('parses a plain SIA-DCS frame with timestamp and a NULL heartbeat', () => {
    expect(ok(PLAIN_SIA_TS)).toMatchObject({
      timestamp: '_12:00:00,01-15-2026',
      timestampMs: T0,
      receiver: '1',
    });
    expect(ok(PLAIN_NULL)).toMatchObject({ id: 'NULL', data: '', account: '1234', seq: '0003' });
  });

  it('decrypts an AES-128 ADM-CID frame', () => {
    const key = parseKey(K128);
    const f = ok(AES_CID, { now: T0 + 5_000, lookup: (a) => (a === '1234' ? { key } : undefined) });
    expect(f).toMatchObject({
      id: 'ADM-CID',
      encrypted: true,
      seq: '0042',
      data: '#1234|1110 01 015',
      timestampMs: T0,
      length: 0x78,
    });
  });

  it('decrypts an AES-256 SIA-DCS frame and an AES-192 NULL', () => {
    const sia = ok(AES_SIA, opts(Date.UTC(2025, 11, 31, 23, 59, 40)));
    expect(sia).toMatchObject({ data: '#BEEF|Nri2/MA007', prefix: '12', account: 'BEEF', seq: '9999' });
    expect(ok(AES_NULL, opts(Date.UTC(2026, 5, 1, 8, 0, 0)))).toMatchObject({
      id: 'NULL',
      data: '',
      account: 'ABC',
    });
  });

  it('takes the account from the data when the header has none', () => {
    const frame = buildFrame({ id: 'SIA-DCS', seq: 1, data: '#1234|NFA101' });
    expect(ok(frame)).toMatchObject({ account: '1234' });
  });

  it('keeps extended data blocks', () => {
    const frame = buildFrame({
      id: 'SIA-DCS',
      seq: 7,
      account: '1234',
      data: 'Nri1/CL501',
      xdata: ['M0026B9E4268B'],
    });
    expect(ok(frame).xdata).toEqual(['M0026B9E4268B']);
  });
});

describe('parseFrame: rejections and the reply each gets', () => {
  it('CRC and length errors are not answered', () => {
    const badCrc = STD_CID.replace('87CD', '87CE');
    expect(parseFrame(badCrc, opts())).toMatchObject({ ok: false, code: 'DC09_BAD_CRC' });
    expect(parseFrame(badCrc, opts())).not.toHaveProperty('reply');
    const badLen = STD_CID.replace('0037', '0038');
    expect(parseFrame(badLen, opts())).toMatchObject({ ok: false, code: 'DC09_BAD_LENGTH' });
    expect(parseFrame(badLen, opts())).not.toHaveProperty('reply');
    const r = parseFrame(badCrc, opts(T0, { nakOnCorrupt: true }));
    expect(!r.ok && r.reply).toBe(buildNak(T0));
  });

  it('garbage is malformed, without reply', () => {
    for (const g of ['', 'hello', '\n\r', '\nZZZZ0010"NULL"', `\n${'\u0001'.repeat(20)}\r`]) {
      const r = parseFrame(g, opts());
      expect(r.ok).toBe(false);
      expect(!r.ok && r.code).toBe('DC09_MALFORMED');
      expect(r).not.toHaveProperty('reply');
    }
  });

  it('unknown account gets DUH echoing seq, receiver, prefix and account', () => {
    const frame = buildFrame({
      id: 'ADM-CID',
      seq: 42,
      receiver: '1',
      prefix: '1',
      account: '9999',
      data: '1110 01 015',
    });
    const r = parseFrame(frame, opts());
    expect(r).toMatchObject({
      ok: false,
      code: 'DC09_UNKNOWN_ACCOUNT',
      reply: '\nB0930014"DUH"0042R1L1#9999[]\r',
    });
  });

  it('unsupported ID token gets DUH', () => {
    const r = parseFrame(buildFrame({ id: 'ADM-XYZ', seq: 1, account: '1234', data: 'x' }), opts());
    expect(r).toMatchObject({ ok: false, code: 'DC09_UNSUPPORTED_ID' });
    expect(!r.ok && r.reply).toContain('"DUH"0001L0#1234[]');
  });

  it('a stale or future timestamp on an encrypted message gets NAK with receiver time', () => {
    const key = parseKey(K128);
    const lookup = (a: string) => (a === '1234' ? { key } : undefined);
    const late = parseFrame(AES_CID, { now: T0 + 41_000, lookup });
    expect(late).toMatchObject({ ok: false, code: 'DC09_TIMESTAMP_OUT_OF_WINDOW' });
    expect(!late.ok && late.reply).toBe(buildNak(T0 + 41_000));
    expect(parseFrame(AES_CID, { now: T0 + 40_000, lookup }).ok).toBe(true);
    expect(parseFrame(AES_CID, { now: T0 - 20_000, lookup }).ok).toBe(true);
    expect(parseFrame(AES_CID, { now: T0 - 21_000, lookup })).toMatchObject({
      code: 'DC09_TIMESTAMP_OUT_OF_WINDOW',
    });
    // configurable window
    expect(parseFrame(AES_CID, { now: T0 + 41_000, lookup, windowPastS: 60 }).ok).toBe(true);
  });

  it('plain timestamps are only enforced where required', () => {
    expect(parseFrame(PLAIN_SIA_TS, opts(T0 + 3600_000)).ok).toBe(true);
    expect(parseFrame(PLAIN_SIA_TS, opts(T0 + 3600_000, { requireTimestamp: true }))).toMatchObject({
      code: 'DC09_TIMESTAMP_OUT_OF_WINDOW',
    });
    // account 5678 requires timestamps; this frame has none
    const r = parseFrame('\n2B8D0027"ADM-CID"0005L0#5678[#5678|1602 00 000]\r', opts());
    expect(r).toMatchObject({ ok: false, code: 'DC09_TIMESTAMP_MISSING' });
    expect(!r.ok && r.reply).toContain('"NAK"0000R0L0A0[]_12:00:00,01-15-2026');
  });

  it('a wrong key gets NAK (DC09_DECRYPT_FAILED)', () => {
    const lookup = () => ({ key: parseKey(K256.slice(0, 32)) });
    const r = parseFrame(AES_CID, { now: T0, lookup });
    expect(r).toMatchObject({ ok: false, code: 'DC09_DECRYPT_FAILED' });
    expect(!r.ok && r.reply).toContain('"NAK"');
  });

  it('encryption mismatches get DUH', () => {
    expect(parseFrame(AES_CID, opts())).toMatchObject({ code: 'DC09_NO_KEY' });
    const plainToKeyed = buildFrame({ id: 'SIA-DCS', seq: 1, account: 'BEEF', data: 'NFA1' });
    const r = parseFrame(plainToKeyed, opts());
    expect(r).toMatchObject({ code: 'DC09_ENCRYPTION_REQUIRED' });
    expect(!r.ok && r.reply).toContain('"DUH"');
  });
});

describe('replies', () => {
  it('builds ACK, NAK and DUH byte for byte', () => {
    expect(buildAck({ seq: '0042', receiver: '1', prefix: '1', account: '1234' }, { now: T0 })).toBe(
      '\n527D0014"ACK"0042R1L1#1234[]\r',
    );
    expect(buildNak(T0)).toBe('\n67690025"NAK"0000R0L0A0[]_12:00:00,01-15-2026\r');
    expect(buildDuh({ seq: '0042', receiver: '1', prefix: '1', account: '9999' })).toBe(
      '\nB0930014"DUH"0042R1L1#9999[]\r',
    );
  });

  it('omits R when the message had none', () => {
    expect(buildAck({ seq: '0001', prefix: '0', account: 'ABC' }, { now: T0 })).toContain(
      '"ACK"0001L0#ABC[]',
    );
  });

  it('encrypts the ACK of an encrypted message, with the receiver time inside', () => {
    const key = parseKey(K128);
    const ack = buildAck({ seq: '0042', receiver: '1', prefix: '1', account: '1234' }, { now: T0, key });
    expect(ack).toMatch(/^\n[0-9A-F]{8}"\*ACK"0042R1L1#1234\[[0-9A-F]{32,}\r$/);
    const r = parseReply(ack, key);
    expect(r).toMatchObject({
      ok: true,
      reply: { type: 'ACK', encrypted: true, seq: '0042', timestampMs: T0 },
    });
    expect(parseReply(ack)).toMatchObject({ ok: false, code: 'DC09_NO_KEY' });
  });

  it('parses NAK and DUH', () => {
    expect(parseReply(buildNak(T0))).toMatchObject({
      ok: true,
      reply: { type: 'NAK', seq: '0000', timestampMs: T0 },
    });
    expect(parseReply('\nB0930014"DUH"0042R1L1#9999[]\r')).toMatchObject({
      ok: true,
      reply: { type: 'DUH', seq: '0042', receiver: '1', prefix: '1', account: '9999', timestamp: null },
    });
    expect(parseReply('\nB0930014"DUH"0042R1L1#9998[]\r')).toMatchObject({ ok: false, code: 'DC09_BAD_CRC' });
  });
});

describe('buildFrame', () => {
  it('reproduces the golden frames', () => {
    expect(
      buildFrame({
        id: 'ADM-CID',
        seq: 9876,
        receiver: '579BDF',
        prefix: '789ABC',
        account: '12345A',
        data: '#12345A|1110 00 129',
      }),
    ).toBe(STD_CID);
    expect(
      buildFrame({
        id: 'SIA-DCS',
        seq: '0002',
        receiver: '1',
        prefix: '1',
        account: '1234',
        data: '#1234|Nri1/FA101',
        timestamp: T0,
      }),
    ).toBe(PLAIN_SIA_TS);
    // with a fixed pad, the AES frame is the openssl one
    const aes = buildFrame({
      id: 'ADM-CID',
      seq: 42,
      receiver: '1',
      prefix: '1',
      account: '1234',
      data: '#1234|1110 01 015',
      timestamp: T0,
      key: K128,
      rand: () => 'X'.charCodeAt(0) - 0x21, // pad alphabet starts at '!'; 'X' comes before the skipped [ ] |
    });
    expect(aes).toBe(AES_CID);
  });

  it('refuses to encrypt without a timestamp', () => {
    expect(() => buildFrame({ id: 'NULL', seq: 1, account: '1234', key: K128 })).toThrow(
      expect.objectContaining({ code: 'DC09_TIMESTAMP_MISSING' }),
    );
  });
});
