import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { GatewayIdentity } from '../../ingest/acl.js';
import { ExternalIngest } from '../../ingest/external.js';
import { mosquittoAcl } from '../../ingest/mosquitto.js';
import type { IngestRouter } from '../../ingest/router.js';
import { Metrics } from '../../lib/metrics.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../../lib/testkit/mosquitto.js';
import { tempDir, until } from '../../lib/testkit/procs.js';
import { siteTopic } from '../../protocol/index.js';
import type { RegistryRepo } from '../../storage/types.js';

/** A router that holds every message until released, so what is in flight can be counted. */
class HoldingRouter {
  readonly held: Array<{ who: GatewayIdentity; payload: string; release: () => void }> = [];
  readonly done: string[] = [];
  maxInFlight = 0;
  private inFlight = 0;

  handle = (who: GatewayIdentity, _topic: string, payload: Buffer): Promise<void> =>
    new Promise<void>((resolve) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      let released = false;
      this.held.push({
        who,
        payload: payload.toString(),
        release: () => {
          if (released) return;
          released = true;
          this.inFlight--;
          this.done.push(payload.toString());
          resolve();
        },
      });
    });
}

const registry = {
  gateways: async () => [{ id: 'gw-a', siteId: 'site-a', disabled: false }],
} as unknown as RegistryRepo;

/** An ingest consuming as `clientId` with `consumers` connections, handing messages to `router`. */
const ingestAs = (
  url: string,
  clientId: string,
  shareGroup: string,
  consumers: number,
  router: HoldingRouter,
) =>
  new ExternalIngest({
    config: { url, username: 'carewatch-central', clientId, shareGroup, consumers },
    password: 'central-password-123',
    router: router as unknown as IngestRouter,
    registry,
    metrics: new Metrics(),
  });

/** Whether the broker holds a persistent session for `id` (a probe that finds none leaves none). */
async function sessionPresent(url: string, id: string): Promise<boolean> {
  const opts = {
    clientId: id,
    username: 'carewatch-central',
    password: 'central-password-123',
    reconnectPeriod: 0,
  };
  const probe = mqtt.connect(url, { ...opts, clean: false });
  const present = await new Promise<boolean>((r) => probe.once('connect', (c) => r(c.sessionPresent)));
  await probe.endAsync();
  if (!present) await (await mqtt.connectAsync(url, { ...opts, clean: true })).endAsync();
  return present;
}

describe.skipIf(!haveMosquitto())('ExternalIngest on Mosquitto', () => {
  const dir = tempDir('cw-ext-ingest-');
  let broker: Mosquitto | undefined;
  afterAll(async () => {
    await broker?.kill('SIGKILL');
    dir.cleanup();
  });

  it('keeps one message in flight per consumer connection, acknowledging each after it is handled', async () => {
    broker = await startMosquitto(
      dir.path,
      { 'gw-a': 'gw-a-password-123', 'carewatch-central': 'central-password-123' },
      mosquittoAcl([{ id: 'gw-a', siteId: 'site-a' }], 'carewatch-central'),
    );
    const router = new HoldingRouter();
    const ingest = ingestAs(broker.url, 'central-x', 'ingest', 4, router);
    expect(ingest.clientIds()).toEqual(['central-x', 'central-x-1', 'central-x-2', 'central-x-3']);
    await ingest.start();
    const gw = await mqtt.connectAsync(broker.url, {
      clientId: 'gw-a',
      username: 'gw-a',
      password: 'gw-a-password-123',
    });
    try {
      const n = 12;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          gw.publishAsync(siteTopic('site-a', 'events'), `m-${i}`, { qos: 1 }),
        ),
      );
      // four connections, each holding one message until it is handled
      await until(async () => router.held.length === 4, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(router.held).toHaveLength(4);
      expect(router.held[0]?.who).toEqual({ siteId: 'site-a', gatewayId: 'gw-a' });
      // releasing them lets the rest through, four at a time at most
      for (let released = 0; released < n; released++) {
        await until(async () => router.held.length > released, 10_000);
        router.held[released]!.release();
      }
      await until(async () => router.done.length === n, 10_000);
      expect(router.maxInFlight).toBe(4);
      expect(new Set(router.done)).toEqual(new Set(Array.from({ length: n }, (_, i) => `m-${i}`)));
    } finally {
      await gw.endAsync();
      await ingest.stop();
    }
    // every message was acknowledged: reconnecting the same sessions brings nothing again
    const again = new HoldingRouter();
    const second = ingestAs(broker.url, 'central-x', 'ingest', 4, again);
    await second.start();
    await new Promise((r) => setTimeout(r, 500));
    await second.stop();
    expect(again.held).toHaveLength(0);
  });

  it('drains and deletes the sessions of consumer ids no longer used when consumers is lowered', async () => {
    const ingest = (consumers: number, router: HoldingRouter) =>
      ingestAs(broker!.url, 'central-y', 'g2', consumers, router);
    const passing = new HoldingRouter();
    const auto = setInterval(() => {
      for (const h of passing.held) h.release();
    }, 20);
    try {
      const four = ingest(4, passing);
      await four.start();
      await four.stop(); // four persistent sessions in the group, all offline now
      const gw = await mqtt.connectAsync(broker!.url, {
        clientId: 'gw-a-2',
        username: 'gw-a',
        password: 'gw-a-password-123',
      });
      const n = 40;
      for (let i = 0; i < n; i++) await gw.publishAsync(siteTopic('site-a', 'events'), `q-${i}`, { qos: 1 });
      await gw.endAsync();
      // queued for the four offline sessions; two consumers from now on: the other two are drained
      const two = ingest(2, passing);
      await two.start();
      await until(async () => new Set(passing.done).size === n, 10_000);
      expect(new Set(passing.done)).toEqual(new Set(Array.from({ length: n }, (_, i) => `q-${i}`)));
      await two.stop();
      for (const id of ['central-y-2', 'central-y-3'])
        expect(await sessionPresent(broker!.url, id), `${id} session`).toBe(false);
    } finally {
      clearInterval(auto);
    }
  });

  it('retires an instance removed for good: its sessions drained, stored, deleted; no share goes to it after', async () => {
    const survivor = new HoldingRouter();
    const leaving = new HoldingRouter();
    const auto = setInterval(() => {
      for (const r of [survivor, leaving]) for (const h of r.held) h.release();
    }, 20);
    const gw = await mqtt.connectAsync(broker!.url, {
      clientId: 'gw-a-3',
      username: 'gw-a',
      password: 'gw-a-password-123',
    });
    const publish = async (prefix: string, n: number) => {
      for (let i = 0; i < n; i++)
        await gw.publishAsync(siteTopic('site-a', 'events'), `${prefix}-${i}`, { qos: 1 });
    };
    const stays = ingestAs(broker!.url, 'central-s', 'g3', 1, survivor);
    try {
      await stays.start();
      const gone = ingestAs(broker!.url, 'central-r', 'g3', 3, leaving);
      await gone.start();
      await gone.stop(); // switched off: its three sessions stay in the group
      await publish('a', 30);
      // the survivor gets its share only; the rest waits in the switched-off sessions
      await until(async () => survivor.done.length > 0, 10_000);
      await new Promise((r) => setTimeout(r, 500));
      const queued = 30 - survivor.done.length;
      expect(queued).toBeGreaterThan(0);

      const report = await ingestAs(broker!.url, 'central-r', 'g3', 3, leaving).retire();
      expect(report.sessions).toEqual(['central-r', 'central-r-1', 'central-r-2']);
      expect(report.handled).toBe(queued);
      expect(new Set([...survivor.done, ...leaving.done])).toEqual(
        new Set(Array.from({ length: 30 }, (_, i) => `a-${i}`)),
      );
      for (const id of ['central-r', 'central-r-1', 'central-r-2'])
        expect(await sessionPresent(broker!.url, id), `${id} session`).toBe(false);

      // from now on every message goes to the survivor
      await publish('b', 20);
      await until(async () => survivor.done.filter((m) => m.startsWith('b-')).length === 20, 10_000);
      expect(leaving.done.filter((m) => m.startsWith('b-'))).toEqual([]);
    } finally {
      clearInterval(auto);
      await gw.endAsync();
      await stays.stop();
    }
  });
});
