import { createInterface } from 'node:readline';
import { ButtonSimulator, parseScript, runScript, type SimAction } from '../simulators/buttons/button-sim.js';

export interface ButtonSimFlags {
  bus: string;
  script?: string;
  stdin?: boolean;
  devices?: string;
  rate?: string;
  duration?: string;
}

/**
 * `carewatch simulate buttons`: a scripted run (`--script`), line-by-line
 * control from stdin (`--stdin`, one script step per line; answers `ok N` or
 * `error ...`), or random presses and cancels (`--devices --rate --duration`).
 */
export async function simulateButtons(f: ButtonSimFlags): Promise<void> {
  const sim = new ButtonSimulator({ url: f.bus });
  await sim.start();
  try {
    if (f.script) await runScript(sim, parseScript(f.script));
    if (f.stdin) {
      const rl = createInterface({ input: process.stdin });
      for await (const line of rl) {
        if (!line.trim()) continue;
        try {
          await runScript(sim, parseScript(line));
          process.stdout.write(`ok ${sim.sent}\n`);
        } catch (err) {
          process.stdout.write(`error ${(err as Error).message}\n`);
        }
      }
    }
    if (f.devices) {
      const devices = f.devices.split(',').filter(Boolean);
      const ratePerS = Number(f.rate ?? '0.2');
      const durationS = Number(f.duration ?? '0');
      const until = durationS > 0 ? Date.now() + durationS * 1000 : Number.POSITIVE_INFINITY;
      const open = new Set<string>();
      let stop = false;
      process.once('SIGINT', () => (stop = true));
      process.once('SIGTERM', () => (stop = true));
      while (!stop && Date.now() < until) {
        await new Promise((r) => setTimeout(r, (-Math.log(1 - Math.random()) / ratePerS) * 1000));
        const d = devices[Math.floor(Math.random() * devices.length)]!;
        const action: SimAction = open.has(d) ? 'cancel' : 'press';
        if (action === 'press') open.add(d);
        else open.delete(d);
        await sim.act(d, action);
        process.stdout.write(`${new Date().toISOString()} ${d} ${action}\n`);
      }
    }
  } finally {
    await sim.stop();
  }
}
