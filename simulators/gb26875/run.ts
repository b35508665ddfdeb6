import { CHECKSUM_SPANS, type ChecksumSpan } from '../../gateway/adapters/gb26875/frame.js';
import { CarewatchError, errorMessage } from '../../lib/errors.js';
import { Gb26875DeviceSim } from './device.js';

export const RUN_DEVICE_USAGE = `usage: gb26875-device --port N [--host 127.0.0.1] [--address 0x0102030405]
  [--centre 0] [--script "fire:3F-corridor;restore:3F-corridor"] [--answer-post-check yes|no]
  [--checksum-span header+data|start+header+data|data] [--confirm-timeout-ms 1000]
  [--attempts 3] [--hold-ms 0]
script steps: fire:NAME fault:NAME restore:NAME heartbeat state:FLAG,FLAG answer wait:MS`;

export interface RunDeviceIo {
  out?: (line: string) => void;
  err?: (line: string) => void;
}

interface Parsed {
  host: string;
  port: number;
  address: number;
  centre: number;
  script: string;
  answer: boolean;
  span: ChecksumSpan;
  confirmTimeoutMs: number;
  attempts: number;
  holdMs: number;
}

function num(name: string, v: string | undefined): number {
  const n = v === undefined ? Number.NaN : Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CarewatchError(
      'SIM_BAD_ARGS',
      `--${name} must be a non-negative integer (0x.. for hex), got "${v}"`,
    );
  }
  return n;
}

export function parseRunDeviceArgs(argv: readonly string[]): Parsed {
  const vals = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (!a.startsWith('--')) throw new CarewatchError('SIM_BAD_ARGS', `unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    if (eq > 0) vals.set(a.slice(2, eq), a.slice(eq + 1));
    else vals.set(a.slice(2), argv[++i] ?? '');
  }
  const known = ['host', 'port', 'address', 'centre', 'script', 'answer-post-check', 'checksum-span'];
  const knownNum = ['confirm-timeout-ms', 'attempts', 'hold-ms'];
  for (const k of vals.keys()) {
    if (!known.includes(k) && !knownNum.includes(k))
      throw new CarewatchError('SIM_BAD_ARGS', `unknown option --${k}`);
  }
  const answer = vals.get('answer-post-check') ?? 'yes';
  if (answer !== 'yes' && answer !== 'no') {
    throw new CarewatchError('SIM_BAD_ARGS', `--answer-post-check must be yes or no, got "${answer}"`);
  }
  const span = (vals.get('checksum-span') ?? 'header+data') as ChecksumSpan;
  if (!CHECKSUM_SPANS.includes(span)) {
    throw new CarewatchError('SIM_BAD_ARGS', `--checksum-span must be one of ${CHECKSUM_SPANS.join(', ')}`);
  }
  return {
    host: vals.get('host') ?? '127.0.0.1',
    port: num('port', vals.get('port')),
    address: num('address', vals.get('address') ?? '1'),
    centre: num('centre', vals.get('centre') ?? '0'),
    script: vals.get('script') ?? 'heartbeat',
    answer: answer === 'yes',
    span,
    confirmTimeoutMs: num('confirm-timeout-ms', vals.get('confirm-timeout-ms') ?? '1000'),
    attempts: Math.max(1, num('attempts', vals.get('attempts') ?? '3')),
    holdMs: num('hold-ms', vals.get('hold-ms') ?? '0'),
  };
}

/**
 * CLI entry: connects, runs the script, optionally stays connected for
 * `--hold-ms` to answer (or ignore) post checks, and returns an exit code:
 * 0 when every frame was confirmed, 1 when some were not, 2 on bad usage or
 * when the receiver cannot be reached.
 */
export async function runDevice(argv: readonly string[], io: RunDeviceIo = {}): Promise<number> {
  const out = io.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = io.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  let p: Parsed;
  try {
    p = parseRunDeviceArgs(argv);
  } catch (e) {
    err(errorMessage(e));
    err(RUN_DEVICE_USAGE);
    return 2;
  }
  const sim = new Gb26875DeviceSim({
    host: p.host,
    port: p.port,
    address: p.address,
    centreAddress: p.centre,
    checksumSpan: p.span,
    answerPostCheck: p.answer,
    confirmTimeoutMs: p.confirmTimeoutMs,
    maxAttempts: p.attempts,
  });
  try {
    await sim.connect();
  } catch (e) {
    err(`cannot connect to ${p.host}:${p.port}: ${errorMessage(e)}`);
    return 2;
  }
  let failed = 0;
  try {
    await sim.run(p.script, (step, r) => {
      if (!r) return out(`${step}: done`);
      if (!r.confirmed) failed++;
      out(
        `${step}: ${r.confirmed ? 'confirmed' : r.denied ? 'denied' : 'no confirm'} (serial ${r.serial}, ${r.attempts} attempt(s))`,
      );
    });
    if (p.holdMs > 0) await new Promise((res) => setTimeout(res, p.holdMs));
    for (const pc of sim.postChecks) {
      out(`post check serial ${pc.serial} (${pc.timeoutMin} min): ${pc.answered ? 'answered' : 'ignored'}`);
    }
  } catch (e) {
    err(errorMessage(e));
    return 2;
  } finally {
    await sim.close();
  }
  return failed > 0 ? 1 : 0;
}
