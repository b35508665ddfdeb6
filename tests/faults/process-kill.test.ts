/**
 * Process faults during a burst of presses: the gateway SIGKILLed at seeded
 * random moments (3 times), the central SIGKILLed at a seeded random moment
 * (the embedded broker dies with it), and a clean restart of the central.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Button,
  type FaultSite,
  faultSite,
  line,
  seededRandom,
  settle,
  sleep,
} from '../../lib/testkit/faults.js';
import { requireBuild } from '../../lib/testkit/procs.js';
import { expectExactlyOnce } from './expect.js';

const DEVICES = ['btn-1', 'btn-2', 'btn-3'];
const SEED = Number(process.env.FAULT_SEED ?? 20240817);

/** Presses round-robin until `stop()` resolves (and at least `minRounds` rounds), bounded by `maxRounds`. */
async function burst(button: Button, stop: Promise<unknown>, minRounds = 30, maxRounds = 400): Promise<void> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  for (let r = 0; r < maxRounds && (r < minRounds || !stopped); r++) {
    for (const d of DEVICES) await button.press(d, r % 2 === 0 ? 'single' : 'double');
    await sleep(10);
  }
  await stop;
}

describe('process faults during a burst', () => {
  let site: FaultSite | undefined;
  let button: Button | undefined;
  afterEach(async () => {
    await button?.close();
    await site?.stop();
    site = undefined;
    button = undefined;
  });

  async function setup(name: string): Promise<{ site: FaultSite; button: Button }> {
    requireBuild();
    site = await faultSite(name, { devices: DEVICES });
    await site.gateway!.waitFor(/connected to central/);
    button = new Button(site.s.busPort);
    return { site, button };
  }

  it('gateway SIGKILLed at a random moment during a burst, 3 times', async () => {
    const { site, button } = await setup('gwkill');
    const rnd = seededRandom(SEED);
    const moments: number[] = [];
    for (let k = 0; k < 3; k++) {
      const at = Math.round(200 + rnd() * 1300);
      moments.push(at);
      const fault = (async () => {
        await sleep(at);
        await site.restartGateway('SIGKILL');
      })();
      await burst(button, fault, 20);
    }
    const t = await settle(site, button);
    const unacked = Object.values(button.unacked).reduce((a, b) => a + b, 0);
    console.log(
      line('gateway-sigkill-x3', t),
      `(seed ${SEED}; kills at ${moments.join(', ')} ms into each burst; ${unacked} presses without PUBACK retried)`,
    );
    expectExactlyOnce(t);
  }, 120_000);

  it('central SIGKILLed at a random moment during a burst (broker restart)', async () => {
    const { site, button } = await setup('cekill');
    const rnd = seededRandom(SEED + 1);
    const at = Math.round(300 + rnd() * 1500);
    const fault = (async () => {
      await sleep(at);
      await site.restartCentral('SIGKILL');
    })();
    await burst(button, fault, 100);
    const t = await settle(site, button);
    console.log(line('central-sigkill', t), `(seed ${SEED + 1}; kill at ${at} ms into the burst)`);
    expect(Object.values(button.unacked).every((n) => n === 0)).toBe(true);
    expectExactlyOnce(t);
  }, 120_000);

  it('clean restart of the central during a burst', async () => {
    const { site, button } = await setup('cerestart');
    const fault = (async () => {
      await sleep(800);
      await site.restartCentral('SIGTERM');
    })();
    await burst(button, fault, 100);
    const t = await settle(site, button);
    console.log(line('central-clean-restart', t));
    expectExactlyOnce(t);
  }, 120_000);
});
