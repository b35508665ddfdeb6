import type { AlertService } from '../alerts/alert-service.js';
import type { Clock } from '../lib/clock.js';
import { logger } from '../lib/logger.js';
import { type CameraReport, isCameraReport, REQUIRED_ZONES } from '../protocol/index.js';
import type { Presence, RegistryRepo, Site } from '../storage/types.js';
import type { CentralBus } from './bus.js';

const log = logger('central:coverage');
const DAY = 24 * 3600_000;

export type ZoneCode =
  | 'ok'
  | 'no_camera'
  | 'offline'
  | 'not_recording'
  | 'retention_short'
  | 'gateway_offline'
  | 'no_inventory';

export interface CameraView extends CameraReport {
  daysKept: number;
  code: ZoneCode;
}

export interface ZoneStatus {
  zone: string;
  ok: boolean;
  code: ZoneCode;
  reason: string;
  cameras: CameraView[];
}

export interface SiteCoverage {
  siteId: string;
  siteName: string;
  compliant: boolean;
  inventoryAt: number | null;
  zones: ZoneStatus[];
  /** Cameras in other named public areas (not required, reported all the same). */
  otherCameras: CameraView[];
}

const REASON: Record<ZoneCode, string> = {
  ok: '在线、录像、保存≥30天 online, recording, ≥30 days kept',
  no_camera: '无摄像机 no camera covers this zone',
  offline: '摄像机离线 camera offline',
  not_recording: '未录像 not recording',
  retention_short: '保存不足30天 less than 30 days of footage kept',
  gateway_offline: '网关离线，状态未知 gateway offline, state unknown',
  no_inventory: '网关未上报设备清单 no inventory from the gateway yet',
};

function judge(c: CameraReport, now: number): CameraView {
  const daysKept = c.oldestKeptAt ? Math.max(0, (now - Date.parse(c.oldestKeptAt)) / DAY) : 0;
  const code: ZoneCode = !c.online
    ? 'offline'
    : !c.recording
      ? 'not_recording'
      : daysKept < Math.max(30, c.policyDays)
        ? 'retention_short'
        : 'ok';
  return { ...c, daysKept: Math.round(daysKept * 10) / 10, code };
}

/** Coverage of one site: per required zone, whether one camera is online, recording and holding ≥ 30 days. */
export function coverageOf(
  site: Pick<Site, 'id' | 'name'>,
  inventory: { body: unknown; receivedAt: number } | null,
  gatewayOnline: boolean,
  now: number,
): SiteCoverage {
  const devices = ((inventory?.body as { devices?: unknown[] } | undefined)?.devices ?? []).filter(
    (d): d is CameraReport => isCameraReport(d),
  );
  const cameras = devices.map((c) => judge(c, now));
  const zones: ZoneStatus[] = REQUIRED_ZONES.map((zone) => {
    const here = cameras.filter((c) => c.zone === zone);
    let code: ZoneCode;
    if (!inventory) code = 'no_inventory';
    else if (here.length === 0) code = 'no_camera';
    else if (!gatewayOnline) code = 'gateway_offline';
    else code = here.find((c) => c.code === 'ok') ? 'ok' : (here[0]!.code as ZoneCode);
    return { zone, ok: code === 'ok', code, reason: REASON[code], cameras: here };
  });
  return {
    siteId: site.id,
    siteName: site.name,
    compliant: zones.every((z) => z.ok),
    inventoryAt: inventory?.receivedAt ?? null,
    zones,
    otherCameras: cameras.filter((c) => !(REQUIRED_ZONES as readonly string[]).includes(c.zone)),
  };
}

/**
 * Keeps `coverage_gap` alerts in step with the inventories: one per (site,
 * required zone) while no camera there is online, recording and holding the
 * policy. Re-evaluated on each inventory and periodically (footage ages).
 */
export class CoverageService {
  private timer: { cancel(): void } | undefined;
  private off: (() => void) | undefined;
  private readonly raised = new Map<string, boolean>();

  constructor(
    private readonly deps: {
      registry: RegistryRepo;
      presence: () => Presence[];
      alerts: AlertService;
      bus: CentralBus;
      clock: Clock;
      everyMs?: number;
    },
  ) {}

  async start(): Promise<void> {
    this.off = this.deps.bus.on('inventory.updated', ({ siteId }) => this.evaluateSite(siteId));
    await this.tick();
  }

  async stop(): Promise<void> {
    this.off?.();
    this.timer?.cancel();
  }

  async all(siteIds?: string[]): Promise<SiteCoverage[]> {
    const sites = (await this.deps.registry.sites()).filter((s) => !siteIds || siteIds.includes(s.id));
    const online = this.onlineSites();
    return Promise.all(sites.map((s) => this.of(s, online)));
  }

  private onlineSites(): Set<string> {
    return new Set(this.deps.presence().flatMap((p) => (p.state === 'online' ? [p.siteId] : [])));
  }

  private async of(site: Site, online: Set<string> = this.onlineSites()): Promise<SiteCoverage> {
    const inv = await this.deps.registry.inventory(site.id);
    return coverageOf(site, inv, online.has(site.id), this.deps.clock.now());
  }

  async evaluateSite(siteId: string): Promise<void> {
    const site = await this.deps.registry.site(siteId);
    if (site) await this.evaluate(site);
  }

  private async evaluate(site: Site, online?: Set<string>): Promise<void> {
    const siteId = site.id;
    const cov = await this.of(site, online);
    if (cov.inventoryAt === null) return; // nothing reported yet: no claim either way
    for (const z of cov.zones) {
      // an offline gateway has its own alert; coverage is not re-judged blind
      if (z.code === 'gateway_offline') continue;
      const key = `${siteId}|${z.zone}`;
      const gap = !z.ok;
      if (this.raised.get(key) === gap) continue;
      this.raised.set(key, gap);
      if (gap) {
        await this.deps.alerts.raise({
          siteId,
          source: `zone:${z.zone}`,
          type: 'coverage_gap',
          severity: z.code === 'no_camera' ? 'major' : 'minor',
          title: `Coverage gap, ${z.zone}: ${z.reason}`,
          actor: 'system:coverage',
        });
      } else {
        await this.deps.alerts.clear({
          siteId,
          source: `zone:${z.zone}`,
          type: 'coverage_gap',
          note: 'zone covered again',
          actor: 'system:coverage',
        });
      }
    }
  }

  private async tick(): Promise<void> {
    try {
      // the site list is read once per pass (reading it per site made a pass quadratic in sites)
      const online = this.onlineSites();
      for (const s of await this.deps.registry.sites()) await this.evaluate(s, online);
    } catch (err) {
      log.error({ err }, 'coverage evaluation failed');
    }
    this.timer = this.deps.clock.setTimeout(() => void this.tick(), this.deps.everyMs ?? 10 * 60_000);
  }
}
