/**
 * `npm run bench:panels` (d): what the DC-09 receiver's replay memory costs
 * per frame. The receiver remembers every acknowledged message for the
 * dedup window (10 min); this measures the time `process()` takes per new
 * fire frame (parse, decode, dedup, sink, ACK built) in a receiver that
 * remembers `remembered` messages, against the same in a fresh receiver
 * (fewer than 1,024 remembered), interleaved in rounds, in this process.
 */
import { Dc09Receiver } from '../gateway/adapters/dc09/receiver.js';
import { rootLogger } from '../lib/logger.js';
import { Dc09Dialler } from '../simulators/dc09/dialler.js';

export interface DedupCost {
  /** Median µs per frame, fresh receiver. */
  freshUs: number;
  /** Median µs per frame with `remembered` messages in memory. */
  fullUs: number;
  remembered: number;
}

const META = { transport: 'tcp' as const, remote: '127.0.0.1:0' };

async function receiver(account: string): Promise<Dc09Receiver> {
  const rx = new Dc09Receiver({
    tcpPort: null,
    udpPort: null,
    accounts: [{ account }],
    sink: async () => {},
  });
  await rx.start();
  return rx;
}

/** New, distinct fire frames for one account (seq and zone change, timestamps are now). */
function frames(account: string) {
  const d = new Dc09Dialler({ host: '127.0.0.1', port: 1, proto: 'tcp', account, format: 'cid' });
  let i = 0;
  return (n: number) =>
    Array.from({ length: n }, () => {
      i++;
      const seq = String(1 + (i % 9999)).padStart(4, '0');
      return d.frameFor('ADM-CID', d.dataFor({ code: 'fire', zone: 1 + (i % 999) }), seq);
    });
}

async function perFrameUs(rx: Dc09Receiver, batch: string[]): Promise<number> {
  const t0 = performance.now();
  for (const f of batch) {
    const reply = await rx.process(f, META);
    if (!reply?.includes('"ACK"')) throw new Error(`DC-09 frame not acknowledged: ${reply}`);
  }
  return ((performance.now() - t0) * 1000) / batch.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function dc09DedupCost(remembered: number, rounds = 5, batch = 400): Promise<DedupCost> {
  const log = rootLogger();
  const level = log.level;
  log.level = 'warn';
  const full = await receiver('2222');
  const fresh: Dc09Receiver[] = [];
  try {
    const fullFrames = frames('2222');
    for (let left = remembered; left > 0; left -= 1000) {
      for (const f of fullFrames(Math.min(1000, left))) await full.process(f, META);
    }
    const freshFrames = frames('1111');
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const rx = await receiver('1111'); // fresh each round: stays below the 1,024 entries where pruning starts
      fresh.push(rx);
      a.push(await perFrameUs(rx, freshFrames(batch)));
      b.push(await perFrameUs(full, fullFrames(batch)));
    }
    return { freshUs: median(a), fullUs: median(b), remembered };
  } finally {
    await full.stop();
    for (const rx of fresh) await rx.stop();
    log.level = level;
  }
}
