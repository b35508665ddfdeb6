import type { CentralBus } from '../../central/bus.js';
import type { Clock } from '../../lib/clock.js';
import { CarewatchError } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { mintId } from '../../protocol/index.js';
import type { EventRepo } from '../../storage/types.js';
import type { AlertService } from '../alert-service.js';
import { FireRoomEventRecords } from './event-records.js';
import type { FireRoomRepo, PostCheck } from './types.js';

const log = logger('alerts:fire-room');

const TWO_HOURS = 2 * 3600_000;
const DAY = 24 * 3600_000;

/**
 * How long a presence sensor's occupancy reading counts for the staffing rule
 * (`occupancyWindowMs`): an older reading (or one dated that far ahead) is
 * ignored and the badge count alone decides, as without a sensor.
 */
export const DEFAULT_OCCUPANCY_WINDOW_MS = 10 * 60_000;

/**
 * After attendance of a site is committed, its staffing is evaluated at once,
 * then at most once per this long while more keeps coming (one evaluation at
 * the end of the interval covers every change in it). Each evaluation reads
 * roster, presence, settings, occupancy, post checks and duty log: per commit
 * it was a tenth of the central's time when badges arrived in bulk.
 */
export const DEFAULT_STAFFING_EVERY_MS = 1000;

export interface FireRoomStatus {
  siteId: string;
  minOperators: number;
  present: Array<{
    operatorId: string;
    name: string | null;
    since: number;
    certified: boolean;
    onRoster: boolean;
  }>;
  certifiedPresent: number;
  /** Enough certified operators checked in and, when the occupancy reading is current, enough people in the room. */
  staffed: boolean;
  /** The latest presence-sensor reading, current or not. */
  occupancy: { count: number; at: number } | null;
  /** The occupancy reading is recent enough to count (see `DEFAULT_OCCUPANCY_WINDOW_MS`). */
  occupancyCurrent: boolean;
  /** A current occupancy reading counts fewer than `minOperators` people: understaffed whatever the badges say. */
  occupancyShort: boolean;
  pendingPostChecks: PostCheck[];
  lastDutyLogAt: number | null;
}

/**
 * The 24-hour fire-control room rule (GB 25506): at least `minOperators`
 * certified operators present, certificates not expired, shifts no longer
 * than `maxShiftH`; remote post checks (查岗) answered within their deadline;
 * the duty log written at least every 2 h while the room is staffed.
 * Conditions become alerts through the alert service (raise/clear on change).
 */
export class FireRoomService {
  private timer: { cancel(): void } | undefined;
  private off: (() => void) | undefined;
  private readonly records: FireRoomEventRecords;
  /** Staffing re-evaluations after attendance commits (they raise and clear alerts through the alert queue). */
  private evaluations: Promise<void> = Promise.resolve();
  private readonly raised = new Map<string, boolean>(); // `${site}|${type}|${source}` -> raised
  private readonly nextRandom = new Map<string, number>();
  /** Sites whose attendance changed since their last staffing evaluation, and when each was last evaluated. */
  private readonly staffingDue = new Set<string>();
  private readonly staffingAt = new Map<string, number>();
  private staffingTimer: { cancel(): void } | null = null;
  private stopped = true;

  constructor(
    private readonly deps: {
      repo: FireRoomRepo;
      /** Unprocessed attendance and answers, replayed by `recover()`. */
      events: Pick<EventRepo, 'unprocessedOf'>;
      alerts: AlertService;
      bus: CentralBus;
      clock: Clock;
      /** Deadline of a post check (GB 26875.1: the prompt stays 10 min). */
      postCheckDeadlineS?: number;
      tickMs?: number;
      random?: () => number;
      /** Best effort: tells the site's gateway (e.g. a GB 26875.3 device) about a new post check. */
      notifyGateway?: (siteId: string, check: PostCheck) => Promise<void>;
      /** How long an occupancy reading counts; `DEFAULT_OCCUPANCY_WINDOW_MS` by default. */
      occupancyWindowMs?: number;
      /** See `DEFAULT_STAFFING_EVERY_MS`. */
      staffingEveryMs?: number;
    },
  ) {
    this.records = new FireRoomEventRecords({
      repo: deps.repo,
      events: deps.events,
      answer: async (a) => {
        await this.answer(a.checkId, a.by, a.via, a.siteId, a.at);
      },
      changed: (sites) => {
        for (const site of sites) this.staffingDue.add(site);
        this.scheduleStaffing();
      },
    });
  }

  /** Evaluates the sites whose interval has passed (all with `force`), and sets one timer for the others. */
  private scheduleStaffing(force = false): void {
    this.staffingTimer?.cancel();
    this.staffingTimer = null;
    const every = this.deps.staffingEveryMs ?? DEFAULT_STAFFING_EVERY_MS;
    const now = this.deps.clock.now();
    const due: string[] = [];
    let wait = Number.POSITIVE_INFINITY;
    for (const site of this.staffingDue) {
      const next = (this.staffingAt.get(site) ?? Number.NEGATIVE_INFINITY) + every;
      if (force || next <= now) due.push(site);
      else wait = Math.min(wait, next - now);
    }
    for (const site of due) {
      this.staffingDue.delete(site);
      this.staffingAt.set(site, now);
    }
    if (due.length > 0) {
      this.evaluations = this.evaluations.then(async () => {
        for (const site of due)
          await this.evaluate(site).catch((err) => log.error({ err, site }, 'staffing not evaluated'));
      });
    }
    if (Number.isFinite(wait) && !this.stopped) {
      this.staffingTimer = this.deps.clock.setTimeout(() => {
        this.staffingTimer = null;
        this.scheduleStaffing();
      }, wait);
    }
  }

  /**
   * Replays attendance and device answers stored before a crash but never
   * committed here. Call before the alert service starts (its recovery marks
   * those events processed).
   */
  async recover(): Promise<number> {
    return this.records.recover();
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.off = this.deps.bus.on('event.stored', (n) => this.records.push(n));
    await this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    this.timer?.cancel();
    this.staffingTimer?.cancel();
    this.staffingTimer = null;
    await this.records.idle();
  }

  /**
   * Of these events, the ones whose record could not be committed, after the
   * commits queued so far: the alert service leaves them unprocessed.
   */
  unapplied(ids: readonly string[]): Promise<ReadonlySet<string>> {
    return this.records.unapplied(ids);
  }

  /**
   * Waits for the records queued so far and their staffing evaluations,
   * including those still waiting for their interval (run now).
   */
  async idle(): Promise<void> {
    for (;;) {
      await this.records.idle();
      if (this.staffingDue.size > 0) this.scheduleStaffing(true);
      const v = this.evaluations;
      await v;
      if (v === this.evaluations && this.staffingDue.size === 0) return;
    }
  }

  private async setCondition(
    on: boolean,
    a: {
      siteId: string;
      source: string;
      type: string;
      severity: 'major' | 'warning';
      title: string;
      note: string;
    },
  ): Promise<void> {
    const key = `${a.siteId}|${a.type}|${a.source}`;
    if ((this.raised.get(key) ?? false) === on && this.raised.has(key)) return;
    this.raised.set(key, on);
    if (on) await this.deps.alerts.raise({ ...a, actor: 'system:fire-room' });
    else
      await this.deps.alerts.clear({
        siteId: a.siteId,
        source: a.source,
        type: a.type,
        note: a.note,
        actor: 'system:fire-room',
      });
  }

  async status(siteId: string): Promise<FireRoomStatus> {
    const now = this.deps.clock.now();
    const [roster, present, settings, occupancy, checks, log] = await Promise.all([
      this.deps.repo.operators(siteId),
      this.deps.repo.present(siteId),
      this.deps.repo.settings(siteId),
      this.deps.repo.occupancy(siteId),
      this.deps.repo.postChecks(siteId, 20),
      this.deps.repo.dutyLog(siteId, 1),
    ]);
    const byId = new Map(roster.map((o) => [o.id, o]));
    const list = present.map((p) => {
      const op = byId.get(p.operatorId);
      return {
        operatorId: p.operatorId,
        name: op?.name ?? null,
        since: p.since,
        onRoster: op !== undefined,
        certified: op !== undefined && op.certificateExpiresAt > now,
      };
    });
    const certifiedPresent = list.filter((p) => p.certified).length;
    // conservative: a current sensor reading can only take staffing away, never stand in for badges
    const windowMs = this.deps.occupancyWindowMs ?? DEFAULT_OCCUPANCY_WINDOW_MS;
    const occupancyCurrent = occupancy !== null && Math.abs(now - occupancy.at) < windowMs;
    const occupancyShort = occupancyCurrent && occupancy.count < settings.minOperators;
    return {
      siteId,
      minOperators: settings.minOperators,
      present: list,
      certifiedPresent,
      staffed: certifiedPresent >= settings.minOperators && !occupancyShort,
      occupancy,
      occupancyCurrent,
      occupancyShort,
      pendingPostChecks: checks.filter((c) => c.state === 'pending'),
      lastDutyLogAt: log[0]?.at ?? null,
    };
  }

  /** Re-evaluates the staffing rules of one site and raises or clears alerts. */
  async evaluate(siteId: string): Promise<FireRoomStatus> {
    const now = this.deps.clock.now();
    const s = await this.status(siteId);
    const settings = await this.deps.repo.settings(siteId);
    await this.setCondition(!s.staffed, {
      siteId,
      source: 'fire-room',
      type: 'fire_room_understaffed',
      severity: 'major',
      title: understaffedTitle(s),
      note: 'staffing restored',
    });
    for (const p of s.present) {
      await this.setCondition(p.onRoster && !p.certified, {
        siteId,
        source: p.operatorId,
        type: 'operator_certificate_expired',
        severity: 'major',
        title: `Operator ${p.name ?? p.operatorId} on duty with an expired certificate`,
        note: 'operator left or certificate renewed',
      });
      await this.setCondition(now - p.since > settings.maxShiftH * 3600_000, {
        siteId,
        source: p.operatorId,
        type: 'shift_too_long',
        severity: 'warning',
        title: `Operator ${p.name ?? p.operatorId} on duty for more than ${settings.maxShiftH} h`,
        note: 'operator relieved',
      });
    }
    // while staffed, the duty log must be written every 2 h (counted from check-in when nothing was written yet)
    const lastWrite = s.lastDutyLogAt ?? Math.min(...s.present.map((p) => p.since));
    const logOverdue = s.present.length > 0 && now - lastWrite > TWO_HOURS;
    await this.setCondition(logOverdue, {
      siteId,
      source: 'duty-log',
      type: 'duty_log_overdue',
      severity: 'warning',
      title: 'Duty log not written for more than 2 h',
      note: 'duty log written',
    });
    return s;
  }

  async issuePostCheck(siteId: string, issuedBy: string): Promise<PostCheck> {
    const now = this.deps.clock.now();
    const check: PostCheck = {
      id: mintId(),
      siteId,
      issuedAt: now,
      issuedBy,
      deadlineAt: now + (this.deps.postCheckDeadlineS ?? 600) * 1000,
      state: 'pending',
      answeredAt: null,
      answeredBy: null,
      via: null,
    };
    await this.deps.repo.createPostCheck(check);
    log.info({ site: siteId, check: check.id, by: issuedBy }, 'post check issued');
    this.deps
      .notifyGateway?.(siteId, check)
      .catch((err) => log.warn({ err: (err as Error).message }, 'gateway not told'));
    this.schedule(check.deadlineAt - now + 1);
    return check;
  }

  async answer(
    checkId: string,
    by: string,
    via: string,
    siteId?: string,
    at: number = this.deps.clock.now(),
  ): Promise<PostCheck> {
    const existing = await this.deps.repo.getPostCheck(checkId);
    if (!existing || (siteId && existing.siteId !== siteId)) {
      throw new CarewatchError('NOT_FOUND', `post check ${checkId} does not exist`);
    }
    const done = await this.deps.repo.answerPostCheck(checkId, by, via, at);
    if (!done) {
      throw new CarewatchError(
        'POST_CHECK_CLOSED',
        `post check ${checkId} is ${existing.state === 'pending' ? 'past its deadline' : existing.state}`,
      );
    }
    return done;
  }

  /** Periodic work: missed post checks, random post checks, time-based staffing rules. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    try {
      for (const missed of await this.deps.repo.missDue(now)) {
        await this.deps.alerts.raise({
          siteId: missed.siteId,
          source: `post-check:${missed.id}`,
          type: 'post_check_missed',
          severity: 'major',
          title: `Post check not answered within ${Math.round((missed.deadlineAt - missed.issuedAt) / 60000)} min`,
          actor: 'system:fire-room',
        });
      }
      for (const siteId of await this.deps.repo.sitesWithRoster()) {
        await this.evaluate(siteId);
        const perDay = (await this.deps.repo.settings(siteId)).randomPostChecksPerDay;
        if (perDay <= 0) continue;
        const due = this.nextRandom.get(siteId);
        if (due === undefined) this.nextRandom.set(siteId, now + this.randomGap(perDay));
        else if (due <= now) {
          await this.issuePostCheck(siteId, 'system:random');
          this.nextRandom.set(siteId, now + this.randomGap(perDay));
        }
      }
    } catch (err) {
      log.error({ err }, 'fire-room tick failed');
    }
    this.schedule(this.deps.tickMs ?? 30_000);
  }

  private randomGap(perDay: number): number {
    const r = (this.deps.random ?? Math.random)();
    return Math.max(60_000, (-Math.log(1 - r) * DAY) / perDay);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.deps.clock.setTimeout(() => void this.tick(), ms);
  }
}

/** Why the room is understaffed: too few certified operators checked in, too few people sensed, or both. */
function understaffedTitle(s: FireRoomStatus): string {
  const badges = `${s.certifiedPresent} of ${s.minOperators} certified operators present`;
  if (!s.occupancyShort || !s.occupancy) return `Fire-control room understaffed: ${badges}`;
  const sensed = `presence sensor counts ${s.occupancy.count} of ${s.minOperators}`;
  return s.certifiedPresent >= s.minOperators
    ? `Fire-control room understaffed: ${sensed} (${s.certifiedPresent} certified operators checked in)`
    : `Fire-control room understaffed: ${badges}; ${sensed}`;
}
