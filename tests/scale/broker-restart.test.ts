import { afterAll, describe, it } from 'vitest';
import { expectAliveAndReady, expectEveryCallOnce, pressRounds } from '../helpers/call-load.js';
import { Cluster } from '../helpers/cluster.js';
import { freePort } from '../helpers/procs.js';
import { startGateway } from '../helpers/site.js';

/**
 * The external broker restarted (a clean stop, which saves its sessions)
 * while emergency calls keep coming: the gateway and both central instances
 * reconnect to their persistent sessions, what the broker held is delivered,
 * what a central had not acknowledged comes again. Every call stored once,
 * every call in exactly one alert, both instances up.
 */
describe('external broker restarted under load', () => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('loses no call and doubles no alert; gateway and both instances reconnect', async () => {
    const devices = ['btn-1', 'btn-2', 'btn-3'];
    cluster = await Cluster.start('cw-broker-restart-', devices);
    const { site: s, procs, pgUrl, broker } = cluster;
    const ports = [await freePort(), await freePort()];
    const centrals = [];
    for (const [i, port] of ports.entries()) {
      const c = cluster.central(await cluster.config(i, { httpPort: port }));
      await c.waitFor(/central ready/);
      centrals.push(c);
    }
    const gw = await startGateway(s);
    procs.push(gw);
    await gw.waitFor(/connected to central/);

    const rounds = 30;
    let restarted = false;
    await pressRounds(s, devices, rounds, async (r) => {
      if (r === 10) {
        await broker.restart();
        restarted = true;
      }
    });
    if (!restarted) throw new Error('the broker was not restarted');

    const calls = await expectEveryCallOnce({
      pgUrl,
      site: s,
      httpBase: `http://127.0.0.1:${ports[1]}`,
      devices,
      rounds,
      procs,
    });
    console.log(
      `broker restarted under load: ${rounds * devices.length * 2} calls stored once, ` +
        `${rounds * devices.length} presses in ${calls.length} alerts`,
    );
    for (const [i, c] of centrals.entries()) await expectAliveAndReady(c, ports[i]!);
  }, 240_000);
});
