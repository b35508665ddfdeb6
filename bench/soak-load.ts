/**
 * The soak's steady load: call buttons (press, then cancel, per device),
 * fire-control-room badge check-ins/outs and DC-09 panel reports (intrusion
 * alarm and restore per zone) spread over every site at a fixed total rate.
 * Every event is counted as sent only when its device-side acknowledgement
 * arrives (local-bus PUBACK, DC-09 ACK).
 */

import { AttendanceSimulator } from '../simulators/attendance/attendance-sim.js';
import { ButtonSimulator } from '../simulators/buttons/button-sim.js';
import { Dc09Dialler } from '../simulators/dc09/dialler.js';
import { LOAD_BUTTONS, PANEL_ACCOUNT, type SoakSite } from './soak-sites.js';

export interface LoadCounts {
  emergency_call: number;
  attendance: number;
  panel_alarm: number;
  /** Publishes or frames that failed or were not acknowledged (not counted as sent). */
  failed: number;
  /** Events due but not issued because a site's panel queue was full. */
  skipped: number;
}

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

interface SiteDevices {
  buttons: ButtonSimulator;
  badges: AttendanceSimulator;
  panel: Dc09Dialler;
  panelQueue: number;
  panelChain: Promise<void>;
  n: { button: number; badge: number; panel: number };
}

export class SteadyLoad {
  readonly sent: LoadCounts = { emergency_call: 0, attendance: 0, panel_alarm: 0, failed: 0, skipped: 0 };
  private devices: SiteDevices[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly sites: SoakSite[],
    private readonly ratePerS: number,
  ) {}

  async start(): Promise<void> {
    for (const s of this.sites) {
      const bus = `mqtt://127.0.0.1:${s.busPort}`;
      const buttons = new ButtonSimulator({ url: bus });
      await buttons.start();
      const badges = new AttendanceSimulator(bus);
      await badges.start();
      const panel = new Dc09Dialler({
        host: '127.0.0.1',
        port: s.dc09Port,
        proto: 'tcp',
        account: PANEL_ACCOUNT,
        format: 'cid',
        timeoutMs: 5000,
        retries: 2,
      });
      this.devices.push({
        buttons,
        badges,
        panel,
        panelQueue: 0,
        panelChain: Promise.resolve(),
        n: { button: 0, badge: 0, panel: 0 },
      });
    }
    this.running = true;
    this.loop = this.run();
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** Event i of the run: 70 % buttons, 20 % badges, 10 % panel reports, round-robin over sites. */
  private issue(i: number): void {
    const d = this.devices[i % this.devices.length]!;
    const slot = Math.floor(i / this.devices.length) % 10;
    if (slot < 7) {
      const k = d.n.button++;
      const dev = `load-${k % LOAD_BUTTONS}`;
      const action = Math.floor(k / LOAD_BUTTONS) % 2 ? 'cancel' : 'press';
      this.track(
        d.buttons.act(dev, action).then(
          () => void this.sent.emergency_call++,
          () => void this.sent.failed++,
        ),
      );
    } else if (slot < 9) {
      const k = d.n.badge++;
      const step = {
        op: k % 2 ? 'out' : 'in',
        device: 'badge-fcr',
        operatorId: `op-${Math.floor(k / 2) % 4}`,
      } as const;
      this.track(
        d.badges.run([step]).then(
          () => void this.sent.attendance++,
          () => void this.sent.failed++,
        ),
      );
    } else {
      if (d.panelQueue >= 50) {
        this.sent.skipped++;
        return;
      }
      const k = d.n.panel++;
      d.panelQueue++;
      const ev = {
        code: 'burglary',
        zone: 1 + (Math.floor(k / 2) % 4),
        qualifier: k % 2 ? 'restore' : 'new',
      } as const;
      d.panelChain = d.panelChain.then(async () => {
        try {
          const r = await d.panel.sendEvent(ev);
          if (r.type === 'ACK') this.sent.panel_alarm++;
          else this.sent.failed++;
        } catch {
          this.sent.failed++;
        } finally {
          d.panelQueue--;
        }
      });
    }
  }

  private async run(): Promise<void> {
    const start = performance.now();
    let issued = 0;
    while (this.running) {
      const due = Math.floor(((performance.now() - start) / 1000) * this.ratePerS);
      while (issued < due && this.running) this.issue(issued++);
      await sleep(10);
    }
  }

  /** Stops issuing, waits for every outstanding acknowledgement, closes the devices. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.allSettled([...this.inflight]);
    await Promise.allSettled(this.devices.map((d) => d.panelChain));
    for (const d of this.devices) {
      await d.buttons.stop();
      await d.badges.stop();
      await d.panel.close();
    }
  }
}
