import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { mosquittoAcl } from '../../ingest/mosquitto.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../../lib/testkit/mosquitto.js';
import { startTestPostgres, type TestPostgres } from '../../lib/testkit/postgres.js';
import { cli, freePort, type Proc, requireBuild, tempDir } from './procs.js';
import { type Setup, setupSite } from './site.js';

const CENTRAL_SECRET = 'central-secret-for-the-test';

/**
 * The scale tests' setting: site-a's gateway behind Mosquitto (its password
 * file and ACL), central instances in external-broker mode on one PostgreSQL
 * database (also where the site is provisioned). `stop()` kills everything
 * started through it and removes the directory.
 */
export class Cluster {
  readonly procs: Proc[] = [];
  private constructor(
    readonly dir: { path: string; cleanup: () => void },
    readonly site: Setup,
    readonly broker: Mosquitto,
    readonly pg: TestPostgres,
    readonly pgUrl: string,
  ) {}

  static async start(prefix: string, devices: string[]): Promise<Cluster> {
    requireBuild();
    expect(haveMosquitto(), 'mosquitto is installed by .ci/run').toBe(true);
    const dir = tempDir(prefix);
    const pg = await startTestPostgres();
    expect(pg, 'PostgreSQL is installed by .ci/run').not.toBeNull();
    // provisioning below and every central process use this database
    const pgUrl = await pg!.createDatabase();
    process.env.CAREWATCH_PG_URL = pgUrl;
    const s = await setupSite(dir.path, { devices });
    const broker = await startMosquitto(
      dir.path,
      { 'gw-site-a': s.gatewayPassword, 'carewatch-central': CENTRAL_SECRET },
      mosquittoAcl([{ id: 'gw-site-a', siteId: 'site-a' }], 'carewatch-central'),
    );
    const site = parse(readFileSync(s.siteYaml, 'utf8'));
    site.central.url = broker.url;
    writeFileSync(s.siteYaml, stringify(site));
    return new Cluster(dir, s, broker, pg!, pgUrl);
  }

  /** Writes `central-{i}.yaml` (client id `central-{i}`, share group `ingest`); returns its path. */
  async config(
    i: number,
    o: { external?: Record<string, unknown>; extra?: Record<string, unknown>; httpPort?: number } = {},
  ): Promise<string> {
    const cfg = join(this.dir.path, `central-${i}.yaml`);
    writeFileSync(
      cfg,
      stringify({
        dataDir: this.site.centralDir,
        mqtt: {
          mode: 'external',
          external: {
            url: this.broker.url,
            username: 'carewatch-central',
            clientId: `central-${i}`,
            shareGroup: 'ingest',
            ...o.external,
          },
        },
        http: { port: o.httpPort ?? (await freePort()) },
        ...o.extra,
      }),
    );
    return cfg;
  }

  /** `carewatch central --config cfg ...args` with the broker password; not waited for. */
  central(cfg: string, args: string[] = []): Proc {
    const p = cli(['central', '--config', cfg, ...args], { CAREWATCH_MQTT_PASSWORD: CENTRAL_SECRET });
    this.procs.push(p);
    return p;
  }

  async stop(): Promise<void> {
    for (const p of this.procs) await p.kill('SIGKILL');
    await this.broker.kill('SIGKILL');
    delete process.env.CAREWATCH_PG_URL;
    await this.pg.stop();
    this.dir.cleanup();
  }
}
