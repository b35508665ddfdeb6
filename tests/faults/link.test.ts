/**
 * Faults on the link between gateway and central, injected by a TCP proxy:
 * a cut, a blackhole (only the keepalive can notice it), a 200 ms delay and
 * repeated resets, each while the buttons keep pressing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Button,
  type FaultSite,
  faultSite,
  line,
  pressRounds,
  settle,
  sleep,
} from '../../lib/testkit/faults.js';
import { requireBuild } from '../../lib/testkit/procs.js';
import { expectExactlyOnce } from './expect.js';

const DEVICES = ['btn-1', 'btn-2', 'btn-3'];

describe('link faults between gateway and central', () => {
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

  it('link cut for 3 s while the buttons keep pressing', async () => {
    const { site, button } = await setup('cut');
    let outage: Promise<void> | undefined;
    await pressRounds(button, DEVICES, 100, 20, (r) => {
      if (r === 20)
        outage = (async () => {
          site.proxy.cut();
          await sleep(3000);
          site.proxy.restore();
        })();
    });
    await outage;
    const t = await settle(site, button);
    console.log(line('link-cut-3s', t), `(refused ${site.proxy.stats.refused} connects during the cut)`);
    expectExactlyOnce(t);
  }, 90_000);

  it('blackhole: the keepalive detects the dead link, then the link comes back', async () => {
    const { site, button } = await setup('blackhole');
    const before = site.proxy.stats.accepted;
    let detectedAfterMs = -1;
    let outage: Promise<void> | undefined;
    await pressRounds(button, DEVICES, 120, 20, (r) => {
      if (r === 20)
        outage = (async () => {
          const t0 = Date.now();
          site.proxy.blackhole();
          // keepaliveS is 5 in site.yaml (the schema's minimum): expect detection within ~1.5 x 5 s
          await site.gateway!.waitFor(/Keepalive timeout/, 20_000);
          detectedAfterMs = Date.now() - t0;
          site.proxy.restore();
        })();
    });
    await outage;
    const t = await settle(site, button);
    console.log(
      line('blackhole', t),
      `(keepalive noticed after ${detectedAfterMs} ms; ${site.proxy.stats.droppedBytes} bytes dropped)`,
    );
    expect(detectedAfterMs).toBeGreaterThan(0);
    expect(site.proxy.stats.accepted).toBeGreaterThan(before);
    expectExactlyOnce(t);
  }, 90_000);

  it('every chunk delayed by 200 ms', async () => {
    const { site, button } = await setup('delay');
    await pressRounds(button, DEVICES, 100, 20, (r) => {
      if (r === 10) site.proxy.delay(200);
    });
    const t = await settle(site, button);
    site.proxy.restore();
    console.log(line('delay-200ms', t));
    expectExactlyOnce(t);
  }, 90_000);

  it('repeated TCP resets', async () => {
    const { site, button } = await setup('resets');
    const resets = 5;
    let done = false;
    // reset the live connection 5 times, each time once the gateway is back and publishing
    const resetter = (async () => {
      for (let i = 0; i < resets && !done; i++) {
        const bytes = site.proxy.stats.bytesUp;
        while (!done && (site.proxy.stats.active === 0 || site.proxy.stats.bytesUp - bytes < 2000))
          await sleep(20);
        await sleep(100);
        site.proxy.reset();
      }
    })();
    let finished = false;
    void resetter.then(() => (finished = true));
    // keep pressing until every reset happened (bounded: 600 rounds)
    for (let r = 0; r < 600 && (r < 150 || !finished); r++) {
      for (const d of DEVICES) await button.press(d, r % 2 === 0 ? 'single' : 'double');
      await sleep(20);
    }
    done = true;
    await resetter;
    const t = await settle(site, button);
    console.log(line('repeated-resets', t), `(${site.proxy.stats.resets} connections reset)`);
    expect(site.proxy.stats.resets).toBeGreaterThanOrEqual(resets);
    expectExactlyOnce(t);
  }, 90_000);
});
