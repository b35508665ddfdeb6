/**
 * `npm run fuzz`: long property runs over the parsers and schemas, bounded in
 * count (FUZZ_RUNS per target, default 20000) and time (FUZZ_SECONDS per
 * target, default 60). Prints one line per target; exits non-zero with the
 * shrunk counterexample on the first failure (add it to the target's unit
 * tests as a regression case).
 */
import fc from 'fast-check';
import { CentralConfig } from '../central/config.js';
import { parseRange } from '../central/media/range.js';
import { parseUploadMeta } from '../dashboard/routes/gateway-media.js';
import { AttendanceAdapter } from '../gateway/adapters/attendance.js';
import { ButtonAdapter } from '../gateway/adapters/buttons.js';
import { parseAdmCidData, parseContactId } from '../gateway/adapters/dc09/contact-id.js';
import { decodeEvents } from '../gateway/adapters/dc09/decode.js';
import { wrap } from '../gateway/adapters/dc09/envelope.js';
import { parseFrame } from '../gateway/adapters/dc09/frame.js';
import { parseSiaData } from '../gateway/adapters/dc09/sia.js';
import { toEvents } from '../gateway/adapters/gb26875/events.js';
import { CHECKSUM_SPANS, Deframer } from '../gateway/adapters/gb26875/frame.js';
import { decodeAppData } from '../gateway/adapters/gb26875/payload.js';
import { GatewayConfig } from '../gateway/config.js';
import { Outbox } from '../gateway/outbox.js';
import { validateConfig } from '../lib/config.js';
import { ConfigError, isCarewatchError } from '../lib/errors.js';
import { Metrics } from '../lib/metrics.js';
import {
  decodeCommand,
  decodeEnvelope,
  decodeInventory,
  decodeStatus,
  parseTopic,
} from '../protocol/index.js';
import { openDatabase } from '../storage/sqlite/open.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 20_000);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
  fc.string({ maxLength: 300 }).map((s) => Buffer.from(s)),
);

function run<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  check: (v: T) => void | Promise<void>,
  async = false,
): Promise<void> {
  const started = Date.now();
  const params = { numRuns: RUNS, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false };
  const done = (r: fc.RunDetails<[T]>) => {
    const s = ((Date.now() - started) / 1000).toFixed(1);
    if (r.failed) {
      console.error(`fuzz ${name}: FAILED after ${r.numRuns} runs in ${s} s\n${fc.defaultReportMessage(r)}`);
      process.exitCode = 1;
    } else
      console.log(
        `fuzz ${name}: ${r.numRuns} runs in ${s} s, 0 failures${r.interrupted ? ' (time bound reached)' : ''}`,
      );
  };
  if (async) {
    return fc
      .check(
        fc.asyncProperty(arb, async (v) => void (await check(v))),
        params,
      )
      .then(done);
  }
  done(
    fc.check(
      fc.property(arb, (v) => void check(v)),
      params,
    ) as fc.RunDetails<[T]>,
  );
  return Promise.resolve();
}

/** A decoder may refuse anything; it must never throw and never accept what is not JSON. */
function decoder(decode: (b: Buffer) => { ok: boolean }) {
  return (b: Buffer) => {
    const r = decode(b);
    if (r.ok) JSON.parse(b.toString());
  };
}

/** Refused input must come as a coded error of the protocol's own family, never as a crash. */
function codedOnly(family: RegExp, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!isCarewatchError(err) || !family.test(err.code)) throw err;
  }
}

async function runPanelTargets(): Promise<void> {
  const printable = fc.string({ maxLength: 160 }).map((t) => t.replace(/[^\x20-\x7e]/g, '?'));
  await run(
    'DC-09 frames (bytes)',
    fc.tuple(fc.uint8Array({ maxLength: 400 }), fc.boolean()),
    ([b, framed]) => {
      const buf = framed ? Buffer.concat([Buffer.from('\n'), b, Buffer.from('\r')]) : Buffer.from(b);
      if (parseFrame(buf, { now: Date.now(), lookup: () => ({}) }).ok)
        throw new Error('accepted random bytes');
    },
  );
  await run(
    'DC-09 frames (valid CRC and length, printable body)',
    fc.tuple(
      printable,
      fc.constantFrom('"', '"SIA-DCS"0001L0#1234[', '"ADM-CID"0001L0#1234[', '"NULL"0001L0#1234['),
    ),
    ([tail, head]) => {
      const r = parseFrame(wrap(`${head}${tail}`), { now: Date.now(), lookup: () => ({}) });
      if (r.ok) codedOnly(/^DC09_/, () => void decodeEvents(r.frame));
    },
  );
  await run('Contact ID (ADM-CID data)', printable, (t) =>
    codedOnly(/^DC09_/, () => void parseAdmCidData(t)),
  );
  await run('Contact ID (raw 16 digits)', printable, (t) =>
    codedOnly(/^DC09_/, () => void parseContactId(t)),
  );
  await run('SIA data blocks', printable, (t) => codedOnly(/^DC09_/, () => void parseSiaData(t)));
  const chunk = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc.constant(Buffer.from('@@')),
    fc.constant(Buffer.from('##')),
  );
  await run(
    'GB/T 26875.3 frames and application data',
    fc.tuple(fc.array(chunk, { maxLength: 20 }), fc.constantFrom(...CHECKSUM_SPANS)),
    ([chunks, checksumSpan]) => {
      const d = new Deframer({ checksumSpan });
      for (const r of [...chunks.flatMap((c) => d.push(c)), ...d.flush()]) {
        if (!r.ok) {
          if (!/^GB26875_/.test(r.error.code)) throw new Error(`uncoded deframer error ${r.error.code}`);
          continue;
        }
        codedOnly(/^GB26875_/, () => {
          const events = toEvents(decodeAppData(r.frame.data), { device: r.frame.source, fallbackAt: 0 });
          if (events.some((e) => e.kind === 'fire' && e.active))
            throw new Error('a fire made up from random bytes');
        });
      }
    },
  );
}

async function main(): Promise<void> {
  await run('decodeEnvelope', bytes, decoder(decodeEnvelope));
  await run('decodeStatus', bytes, decoder(decodeStatus));
  await run('decodeCommand', bytes, decoder(decodeCommand));
  await run('decodeInventory', bytes, decoder(decodeInventory));
  await run('parseTopic', fc.string({ maxLength: 200 }), (s) => {
    const t = parseTopic(`carewatch/v1/sites/${s}`);
    if (t && (t.siteId.includes('/') || t.siteId.includes('+') || t.siteId.includes('#')))
      throw new Error('bad site id');
  });
  await run('parseRange', fc.tuple(fc.string({ maxLength: 250 }), fc.nat({ max: 1e9 })), ([h, size]) => {
    const r = parseRange(h, size);
    if (r.kind === 'partial' && (r.start < 0 || r.end < r.start || r.end >= size))
      throw new Error('range outside');
  });
  await run(
    'parseUploadMeta',
    fc.oneof(
      fc.string({ maxLength: 500 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    ),
    (h) => {
      try {
        const m = parseUploadMeta(h);
        if (!(m.toMs >= m.fromMs)) throw new Error('accepted a backwards range');
      } catch (err) {
        if (!isCarewatchError(err) || err.code !== 'MEDIA_META_INVALID') throw err;
      }
    },
  );
  await runPanelTargets();
  for (const [name, schema] of [
    ['GatewayConfig', GatewayConfig],
    ['CentralConfig', CentralConfig],
  ] as const) {
    await run(`validateConfig(${name})`, fc.jsonValue(), (v) => {
      try {
        validateConfig(schema, v, 'fuzz');
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
      }
    });
  }
  const db = openDatabase(':memory:', { synchronous: 'NORMAL' });
  const outbox = new Outbox(db, 'fuzz-site');
  const metrics = new Metrics();
  const config = validateConfig(
    GatewayConfig,
    {
      siteId: 's',
      gatewayId: 'g',
      dataDir: '/tmp',
      central: { url: 'mqtt://127.0.0.1:1' },
      buttons: { devices: [{ deviceId: 'b1' }] },
    },
    'fuzz',
  );
  const buttons = new ButtonAdapter({ config: config.buttons, outbox, metrics });
  const attendance = new AttendanceAdapter({
    devices: [
      { deviceId: 'r1', source: 'badge' },
      { deviceId: 'p1', source: 'presence' },
    ],
    outbox,
    metrics,
  });
  const topics = fc.constantFrom(
    'zigbee2mqtt/b1',
    'zigbee2mqtt/b1/availability',
    'zigbee2mqtt/x',
    'attendance/r1',
    'attendance/p1',
  );
  await run(
    'gateway adapters',
    fc.tuple(topics, bytes),
    async ([topic, payload]) => {
      if (attendance.claims(topic)) await attendance.handle(topic, payload);
      else await buttons.handle(topic, payload);
    },
    true,
  );
  // everything the adapters queued must be a valid envelope
  for (const e of outbox.peek(1_000_000, new Set())) {
    if (!decodeEnvelope(e.payload).ok) {
      console.error('fuzz gateway adapters: an invalid envelope was queued');
      process.exitCode = 1;
    }
  }
  db.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
