/**
 * Backlog with priority (issue 8 item 2): while the central was down the
 * gateway piled up a backlog of routine events on disk; the central comes
 * back and, during the drain, an emergency call is pressed. The call must
 * reach the supervisor WebSocket before the backlog is fully stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BACKLOG_KIND,
  Button,
  CentralDbView,
  type FaultSite,
  faultSite,
  fillOutbox,
  line,
  sleep,
  storedEvents,
  tally,
} from '../../lib/testkit/faults.js';
import { requireBuild, until } from '../../lib/testkit/procs.js';
import { supervisorSocket } from '../../lib/testkit/ws.js';
import { expectExactlyOnce } from './expect.js';

const N = Number(process.env.BACKLOG_TEST_N ?? 3000);
const BACKLOG_DEVICES = ['att-1', 'att-2', 'att-3'];
const LIVE = 'btn-live';

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

  it(`a live emergency call overtakes a backlog of ${N} routine events`, async () => {
    requireBuild();
    // The gateway's only adapter is for buttons, so the backlog's source devices are
    // declared as buttons (the central only checks that a device is in the inventory).
    site = await faultSite('backlog', { devices: [LIVE, ...BACKLOG_DEVICES] });
    await site.gateway!.waitFor(/connected to central/);
    await sleep(500); // the inventory reaches the central's registry

    // the central goes down; the backlog piles up in the gateway's outbox
    await site.central!.kill('SIGTERM');
    await site.gateway!.kill('SIGTERM');
    await fillOutbox(site.gatewayDir, site.siteId, BACKLOG_DEVICES, N);
    site.proxy.cut(); // keeps the gateway off the central until the supervisor watches
    await site.startGateway();
    await site.startCentral();
    const sup = await supervisorSocket(site.s.base, await site.token());
    await sup.next((m) => m.type === 'snapshot');
    view = new CentralDbView(site.s.centralDir);
    expect(view.count(BACKLOG_KIND)).toBe(0);

    // the link comes back: the drain starts; once it is under way, a resident presses
    site.proxy.restore();
    const drainStart = Date.now();
    const v = view;
    await until(async () => v.count(BACKLOG_KIND) >= N / 10, 30_000, 5);
    button = new Button(site.s.busPort);
    const storedAtPress = v.count(BACKLOG_KIND);
    const t0 = performance.now();
    await button.press(LIVE, 'single');
    await sup.next((m) => m.change === 'opened' && m.alert?.source === LIVE, 30_000);
    const latencyMs = performance.now() - t0;
    const waiting = N - v.count(BACKLOG_KIND);

    await until(async () => v.count(BACKLOG_KIND) >= N, 60_000, 50);
    const drainMs = Date.now() - drainStart;
    await sleep(1000);
    const backlog = tally(v.events(BACKLOG_KIND), {
      sent: Object.fromEntries(
        BACKLOG_DEVICES.map((d, i) => [d, Math.ceil((N - i) / BACKLOG_DEVICES.length)]),
      ),
      unacked: {},
    });
    const calls = tally(await storedEvents(site.s, await site.token()), button);
    const t = {
      ...backlog,
      sent: backlog.sent + calls.sent,
      stored: backlog.stored + calls.stored,
      duplicated: backlog.duplicated + calls.duplicated,
      orderViolations: backlog.orderViolations + calls.orderViolations,
      gaps: { ...backlog.gaps, ...calls.gaps },
      perDevice: { ...backlog.perDevice, ...calls.perDevice },
    };
    console.log(line('backlog-priority', t));
    console.log(
      `scenario backlog-priority: live alarm pressed with ${storedAtPress}/${N} backlog events stored, ` +
        `on the supervisor WebSocket after ${latencyMs.toFixed(0)} ms with ${waiting} backlog events still waiting; ` +
        `whole drain ${drainMs} ms (${((N / drainMs) * 1000).toFixed(0)} events/s)`,
    );
    expect(waiting, 'backlog events not yet stored when the live alarm was on screen').toBeGreaterThan(0);
    expectExactlyOnce(t);
    sup.close();
  }, 120_000);
});
