import { Central } from '../../central/central.js';
import { CentralConfig } from '../../central/config.js';
import { addUser, provisionGateway } from '../../cli/provision.js';
import type { Clock } from '../../lib/clock.js';
import { validateConfig } from '../../lib/config.js';
import { tempDir } from './procs.js';

/** An in-process central on ephemeral loopback ports with one site per id given. */
export async function inProcessCentral(
  opts: { sites?: string[]; config?: Record<string, unknown>; clock?: Clock } = {},
) {
  const dir = tempDir('cw-central-');
  const sites = opts.sites ?? ['site-a', 'site-b'];
  const secrets: Record<string, string> = {};
  for (const site of sites) {
    const g = await provisionGateway({ dataDir: dir.path, siteId: site, gatewayId: `gw-${site}` });
    secrets[site] = g.password;
  }
  const admin = await addUser({ dataDir: dir.path, username: 'admin', role: 'admin', sites: '*' });
  const config = validateConfig(
    CentralConfig,
    { dataDir: dir.path, mqtt: { port: 0 }, http: { port: 0 }, ...opts.config },
    'test',
  );
  const central = new Central(config, opts.clock);
  await central.start();
  return {
    central,
    dir: dir.path,
    secrets,
    adminPassword: admin.password,
    mqttUrl: `mqtt://127.0.0.1:${central.ports.mqtt}`,
    base: `http://127.0.0.1:${central.ports.http}`,
    async close() {
      await central.stop();
      dir.cleanup();
    },
  };
}
