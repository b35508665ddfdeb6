/**
 * Backlog with priority (issue 8 item 2): while the central was down the
 * gateway piled up a backlog of routine events on disk; the central comes
 * back and, during the drain, an emergency call is pressed. The call must
 * reach the supervisor WebSocket before the backlog is fully stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../gateway/outbox.js';
import {
  BACKLOG_KIND,
  Button,
  CentralDbView,
  callEvent,
  type FaultSite,
  faultSite,
  fillOutbox,
  line,
  routineEvent,
  sleep,
  type Tally,
  tally,
} from '../../lib/testkit/faults.js';
import { requireBuild, until } from '../../lib/testkit/procs.js';
import { supervisorSocket } from '../../lib/testkit/ws.js';
import { expectExactlyOnce } from './expect.js';

const N = Number(process.env.BACKLOG_TEST_N ?? 3000);
const LIVE = 'btn-live';

function merge(a: Tally, b: Tally): Tally {
  return {
    sent: a.sent + b.sent,
    stored: a.stored + b.stored,
    duplicated: a.duplicated + b.duplicated,
    orderViolations: a.orderViolations + b.orderViolations,
    gaps: { ...a.gaps, ...b.gaps },
    perDevice: { ...a.perDevice, ...b.perDevice },
  };
}

describe('backlog drain with a live alarm', () => {
  let site: FaultSite | undefined;
  let button: Button | undefined;
  let view: CentralDbView | undefined;
  afterEach(async () => {
    view?.close();
    await button?.close();
    await site?.stop();
    site = view = button = undefined;
  });

  /**
   * Fills the outbox with `n` backlog events while the central is down, lets
   * the drain start, presses LIVE once a tenth of the backlog is stored, and
   * measures the call's way to the supervisor WebSocket.
   */
  async function scenario(
    name: string,
    n: number,
    devices: string[],
    kind: string,
    make: (d: string, i: number) => NewEvent,
  ): Promise<{ waiting: number; tally: Tally }> {
    requireBuild();
    // The gateway's only adapter is for buttons, so every source device is declared
    // as a button (the central only checks that a device is in the inventory).
    site = await faultSite(name, { devices: [LIVE, ...devices] });
    await site.gateway!.waitFor(/connected to central/);
    await sleep(500); // the inventory reaches the central's registry

    // the central goes down; the backlog piles up in the gateway's outbox
    await site.central!.kill('SIGTERM');
    await site.gateway!.kill('SIGTERM');
    await fillOutbox(site.gatewayDir, site.siteId, devices, n, 5000, undefined, make);
    site.proxy.cut(); // keeps the gateway off the central until the supervisor watches
    await site.startGateway();
    await site.startCentral();
    const sup = await supervisorSocket(site.s.base, await site.token());
    await sup.next((m) => m.type === 'snapshot');
    const v = new CentralDbView(site.s.centralDir);
    view = v;
    const backlogStored = () => v.count(kind, [LIVE]);
    expect(backlogStored()).toBe(0);

    // the link comes back: the drain starts; once it is under way, a resident presses
    site.proxy.restore();
    const drainStart = Date.now();
    await until(async () => backlogStored() >= n / 10, 30_000, 5);
    button = new Button(site.s.busPort);
    const storedAtPress = backlogStored();
    const t0 = performance.now();
    await button.press(LIVE, 'single');
    await sup.next((m) => m.change === 'opened' && m.alert?.source === LIVE, 60_000);
    const latencyMs = performance.now() - t0;
    const waiting = n - backlogStored();

    await until(async () => backlogStored() >= n, 60_000, 50);
    const drainMs = Date.now() - drainStart;
    await sleep(1000);
    const expected = Object.fromEntries(devices.map((d, i) => [d, Math.ceil((n - i) / devices.length)]));
    const backlog = tally(
      v.events(kind).filter((e) => e.deviceId !== LIVE),
      { sent: expected, unacked: {} },
    );
    // read from the store file: with the live alarm overtaking, it is older than the API's newest 1000
    const live = tally(
      v.events('emergency_call').filter((e) => e.deviceId === LIVE),
      button,
    );
    const t = merge(backlog, live);
    console.log(line(name, t));
    console.log(
      `scenario ${name}: live alarm pressed with ${storedAtPress}/${n} backlog events stored, ` +
        `on the supervisor WebSocket after ${latencyMs.toFixed(0)} ms with ${waiting} backlog events still waiting; ` +
        `whole drain ${drainMs} ms (${((n / drainMs) * 1000).toFixed(0)} events/s)`,
    );
    sup.close();
    return { waiting, tally: t };
  }

  it(`a live emergency call overtakes a backlog of ${N} routine events`, async () => {
    const r = await scenario('backlog-priority', N, ['att-1', 'att-2', 'att-3'], BACKLOG_KIND, routineEvent);
    expect(r.waiting, 'backlog events not yet stored when the live alarm was on screen').toBeGreaterThan(0);
    expectExactlyOnce(r.tally);
  }, 120_000);

  /**
   * A call raised while the link is up takes the live lane (Outbox.priorityOf):
   * it overtakes a backlog of older calls from other devices, while each
   * device's own events keep their order.
   */
  it('a live emergency call overtakes a backlog of emergency calls from other devices', async () => {
    const devices = ['btn-1', 'btn-2', 'btn-3'];
    const n = 1500;
    const r = await scenario('backlog-of-calls', n, devices, 'emergency_call', (d, i) =>
      callEvent(d, i, devices.length),
    );
    expect(r.waiting, 'backlog calls not yet stored when the live call was on screen').toBeGreaterThan(0);
    expectExactlyOnce(r.tally);
  }, 120_000);
});
