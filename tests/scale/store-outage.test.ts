import { afterAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../lib/testkit/tcp-proxy.js';
import { expectAliveAndReady, expectEveryCallOnce, pressRounds } from '../helpers/call-load.js';
import { Cluster } from '../helpers/cluster.js';
import { freePort } from '../helpers/procs.js';
import { startGateway } from '../helpers/site.js';

/**
 * The central's link to PostgreSQL cut for a few seconds while emergency
 * calls keep coming (through Mosquitto, external-broker mode): what could not
 * be stored stays unacknowledged in the broker and is delivered again, what
 * was stored but not yet applied is applied later, and the process stays up.
 * Every call stored once, every call in exactly one alert. (Before the fix,
 * the central died: a pooled client losing its connection inside a
 * transaction had no error listener, and the device sequencer let a failed
 * store lookup escape as an unhandled rejection.)
 */
describe('PostgreSQL unreachable for a while under load', () => {
  let cluster: Cluster | undefined;
  let proxy: TcpProxy | undefined;
  afterAll(async () => {
    await proxy?.close();
    await cluster?.stop();
  });

  it('loses no call and doubles no alert, and the central keeps running', async () => {
    const devices = ['btn-1', 'btn-2', 'btn-3'];
    cluster = await Cluster.start('cw-pg-outage-', devices);
    const { site: s, procs, pgUrl } = cluster;
    const direct = new URL(pgUrl);
    proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port) });
    const viaProxy = new URL(pgUrl);
    viaProxy.port = String(proxy.port);
    // every store of the central (events, alerts, media, safety) goes through the proxy
    process.env.CAREWATCH_PG_URL = viaProxy.toString();
    const httpPort = await freePort();
    const central = cluster.central(
      await cluster.config(0, {
        httpPort,
        extra: {
          storage: { postgresUrl: viaProxy.toString() },
          // what was stored but could not be applied during the cut is announced again soon
          alerts: { redeliverAfterS: 4 },
        },
      }),
    );
    await central.waitFor(/central ready/);
    const gw = await startGateway(s);
    procs.push(gw);
    await gw.waitFor(/connected to central/);

    const rounds = 30;
    await pressRounds(s, devices, rounds, (r) => {
      if (r === 8) proxy!.cut();
      if (r === 20) proxy!.restore();
    });
    expect(proxy.stats.refused, 'the central tried to reach PostgreSQL during the cut').toBeGreaterThan(0);

    const calls = await expectEveryCallOnce({
      pgUrl,
      site: s,
      httpBase: `http://127.0.0.1:${httpPort}`,
      devices,
      rounds,
      procs,
    });
    console.log(
      `PostgreSQL cut under load: ${proxy.stats.refused} connection attempts refused during the cut; ` +
        `${rounds * devices.length * 2} calls stored once, ${rounds * devices.length} presses in ${calls.length} alerts`,
    );
    await expectAliveAndReady(central, httpPort);
  }, 240_000);
});
