/**
 * Part (a) of `bench:ingest`: persisted events per second on the embedded
 * central and on Mosquitto + PostgreSQL with 1 and 2 instances, each against
 * its bare broker measured before and after with the same publishers.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { mosquittoAcl } from '../ingest/mosquitto.js';
import { randomSecret } from '../lib/passwords.js';
import { haveMosquitto, startMosquitto } from '../lib/testkit/mosquitto.js';
import { startTestPostgres, type TestPostgres } from '../lib/testkit/postgres.js';
import { type BareBroker, startBareAedes, startBareMosquitto } from './ingest-brokers.js';
import {
  type BenchGateway,
  type Counter,
  eventsSubscriber,
  type LoadResult,
  pgCounter,
  runLoad,
  sqliteCounter,
} from './ingest-load.js';
import { type CentralProc, cpuOf, pidsWith, provisionMany, startCentralProc } from './ingest-setup.js';

export interface ThroughputSettings {
  perGateway: number;
  window: number;
  warmup: number;
  deadlineMs: number;
  /** Consumer connections per central instance in external mode (default: the central's own). */
  consumers?: number | undefined;
  log: (line: string) => void;
}

/** Over the measured window (first publish until the last event arrived): `cpuMs`, the broker's or central's CPU per event (every thread); `clientCpuMs`, this process's (the publishers and the row counter); `mainBusy`, the share of one core the broker's or central's main thread used. */
export type Measured = LoadResult & { cpuMs: number; clientCpuMs: number; mainBusy: number };

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

/** The runs of part (a); `rows` collects the markdown table rows of every part run. */
export function throughputParts(s: ThroughputSettings) {
  const rows: string[] = [];
  async function measure(
    label: string,
    url: string,
    gateways: BenchGateway[],
    o: { anonymous?: boolean; counter?: () => Promise<Counter>; pids?: number[] } = {},
  ): Promise<Measured> {
    const base = {
      url,
      gateways,
      window: s.window,
      deadlineMs: s.deadlineMs,
      anonymous: o.anonymous ?? false,
    };
    const warmCounter = o.counter ? await o.counter() : undefined;
    await runLoad({
      ...base,
      perGateway: Math.ceil(s.warmup / gateways.length),
      ...(warmCounter ? { counter: warmCounter } : {}),
    });
    await warmCounter?.close();
    const counter = o.counter ? await o.counter() : undefined;
    const cpu = () => (o.pids ?? []).reduce((sum, pid) => sum + cpuOf(pid), 0);
    try {
      // the first process's main thread (its own id is the process id): the event loop's share
      const main = o.pids?.[0];
      // read when the clock starts and stops (connections made, payloads built): the publishing only
      let at0 = { cpu: 0, own: process.cpuUsage(), main: 0 };
      let at1 = { cpu: 0, own: { user: 0, system: 0 }, main: 0 };
      const loaded = await runLoad({
        ...base,
        perGateway: s.perGateway,
        seqBase: 1_000_000,
        ...(counter ? { counter } : {}),
        mark: (at) => {
          const cpuNow = cpu();
          const mainNow = main === undefined ? 0 : cpuOf(main, main);
          if (at === 'start') at0 = { cpu: cpuNow, own: process.cpuUsage(), main: mainNow };
          else at1 = { cpu: cpuNow, own: process.cpuUsage(at0.own), main: mainNow };
        },
      });
      const r = {
        ...loaded,
        cpuMs: ((at1.cpu - at0.cpu) * 1000) / loaded.sent,
        clientCpuMs: (at1.own.user + at1.own.system) / 1000 / loaded.sent,
        mainBusy: (at1.main - at0.main) / loaded.seconds,
      };
      s.log(
        `  ${label}: ${fmt(r.rate)} events/s (${r.arrived}/${r.sent} in ${r.seconds.toFixed(2)} s; ` +
          `all PUBACKs after ${r.ackSeconds.toFixed(2)} s; server CPU ${r.cpuMs.toFixed(3)} ms/event, publishers' ${r.clientCpuMs.toFixed(3)} ms/event; main thread ${(100 * r.mainBusy).toFixed(0)} % busy)${r.complete ? '' : ' INCOMPLETE: deadline reached'}`,
      );
      return r;
    } finally {
      await counter?.close();
    }
  }

  function row(label: string, r: Measured, baseline: number, where: string): void {
    rows.push(
      `| ${label} | ${fmt(r.sent)} | ${where} | ${r.seconds.toFixed(2)} s | ${fmt(r.rate)}/s | ${(r.rate / baseline).toFixed(2)}${r.complete ? '' : ' (incomplete)'} | ${r.cpuMs.toFixed(3)} ms |`,
    );
  }

  function baselineRow(
    label: string,
    a: Measured,
    b: Measured,
    where: string,
    ref = (a.rate + b.rate) / 2,
  ): number {
    const rate = (a.rate + b.rate) / 2;
    rows.push(
      `| ${label} (mean of before ${fmt(a.rate)}/s and after ${fmt(b.rate)}/s) | ${fmt(a.sent)} | ${where} | | ${fmt(rate)}/s | ${(rate / ref).toFixed(2)} | ${((a.cpuMs + b.cpuMs) / 2).toFixed(3)} ms |`,
    );
    return rate;
  }

  async function embeddedPart(
    dir: string,
    gws: BenchGateway[],
  ): Promise<{ baseline: number; central: Measured }> {
    s.log('embedded: central (aedes + SQLite) against a bare aedes');
    const bare = async (tag: string) => {
      const b: BareBroker = await startBareAedes();
      try {
        return await measure(`bare aedes (${tag})`, b.url, gws, { anonymous: true, pids: [b.pid] });
      } finally {
        await b.stop();
      }
    };
    const before = await bare('before');
    const dataDir = join(dir, 'embedded');
    await provisionMany({ dataDir }, gws);
    const central = await startCentralProc(dir, 'central-embedded', { dataDir });
    let r: Measured;
    try {
      r = await measure('embedded central', `mqtt://127.0.0.1:${central.mqttPort}`, gws, {
        counter: async () => sqliteCounter(join(dataDir, 'central.db')),
        pids: [central.pid],
      });
    } finally {
      await central.stop();
    }
    const after = await bare('after');
    const baseline = baselineRow('bare aedes, no hooks: baseline', before, after, 'PUBACKs');
    row('embedded central: aedes + SQLite', r, baseline, 'rows in SQLite');
    s.log(`  ratio ${(r.rate / baseline).toFixed(2)} (target ≥ 0.6)`);
    return { baseline, central: r };
  }

  async function externalCase(
    dir: string,
    pg: TestPostgres,
    gws: BenchGateway[],
    instances: number,
  ): Promise<Measured> {
    const caseDir = join(dir, `external-${instances}`);
    mkdirSync(caseDir, { recursive: true });
    const db = await pg.createDatabase();
    await provisionMany({ dataDir: caseDir, postgresUrl: db }, gws);
    const secret = randomSecret(18);
    const users = Object.fromEntries(gws.map((g) => [g.gatewayId, g.password]));
    const broker = await startMosquitto(
      caseDir,
      { ...users, 'carewatch-central': secret },
      mosquittoAcl(
        gws.map((g) => ({ id: g.gatewayId, siteId: g.siteId })),
        'carewatch-central',
      ),
    );
    const centrals: CentralProc[] = [];
    try {
      for (let i = 0; i < instances; i++) {
        centrals.push(
          await startCentralProc(
            caseDir,
            `central-${i}`,
            {
              dataDir: caseDir,
              mqtt: {
                mode: 'external',
                external: {
                  url: broker.url,
                  username: 'carewatch-central',
                  clientId: `central-${i}`,
                  shareGroup: 'ingest',
                  ...(s.consumers ? { consumers: s.consumers } : {}),
                },
              },
              storage: { postgresUrl: db },
            },
            { CAREWATCH_MQTT_PASSWORD: secret },
          ),
        );
      }
      return await measure(`Mosquitto + PostgreSQL, ${instances} instance(s)`, broker.url, gws, {
        counter: () => pgCounter(db),
        pids: [...centrals.map((c) => c.pid), ...pidsWith(join(caseDir, 'mosquitto.conf'))],
      });
    } finally {
      for (const c of centrals) await c.stop();
      await broker.kill();
    }
  }

  async function externalPart(
    dir: string,
    gws: BenchGateway[],
  ): Promise<{ baseline: number; one: Measured; two: Measured }> {
    s.log('external: Mosquitto + PostgreSQL with 1 and 2 central instances against a bare Mosquitto');
    if (!haveMosquitto()) throw new Error('mosquitto is not installed (.ci/run installs it)');
    const pg = await startTestPostgres();
    if (!pg) throw new Error('no PostgreSQL (.ci/run installs it)');
    const bare = async (tag: string, withSub: boolean) => {
      const b = await startBareMosquitto(dir);
      try {
        return await measure(`bare Mosquitto${withSub ? ' + QoS 1 subscriber' : ''} (${tag})`, b.url, gws, {
          anonymous: true,
          pids: [b.pid],
          ...(withSub ? { counter: () => eventsSubscriber(b.url) } : {}),
        });
      } finally {
        await b.stop();
      }
    };
    try {
      const before = await bare('before', false);
      const subBefore = await bare('before', true);
      const one = await externalCase(dir, pg, gws, 1);
      const two = await externalCase(dir, pg, gws, 2);
      const after = await bare('after', false);
      const subAfter = await bare('after', true);
      const baseline = baselineRow('bare Mosquitto, plain listener: baseline', before, after, 'PUBACKs');
      baselineRow(
        'bare Mosquitto + one QoS 1 subscriber',
        subBefore,
        subAfter,
        'messages at the subscriber',
        baseline,
      );
      row('Mosquitto (auth, ACL, persistence) + PostgreSQL, 1 instance', one, baseline, 'rows in PostgreSQL');
      row(
        'Mosquitto (auth, ACL, persistence) + PostgreSQL, 2 instances',
        two,
        baseline,
        'rows in PostgreSQL',
      );
      s.log(
        `  ratios: 1 instance ${(one.rate / baseline).toFixed(2)}, 2 instances ${(two.rate / baseline).toFixed(2)}`,
      );
      return { baseline, one, two };
    } finally {
      await pg.stop();
    }
  }

  return { rows, embeddedPart, externalPart };
}
