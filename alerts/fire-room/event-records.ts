import type { StoredEventNotice } from '../../central/bus.js';
import { CarewatchError } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import type { EventCursor, EventRepo } from '../../storage/types.js';
import type { AttendanceEntry, FireRoomRepo } from './types.js';

const log = logger('alerts:fire-room');

/** The event kinds the fire-control room keeps its own records of. */
const KINDS = ['attendance', 'post_check'] as const;
const RECOVER_PAGE = 500;

export interface DeviceAnswer {
  eventId: string;
  checkId: string;
  by: string;
  via: string;
  siteId: string;
  at: number;
}

/**
 * The fire-control room's records of stored events: attendance (badge, face,
 * presence sensors) and post-check answers sent by devices. Commits run one
 * after another in event order, attendance of a burst in one transaction.
 *
 * Crash safety: the alert service marks an event processed only after asking
 * `unapplied()`, which waits for the commits queued so far and names the
 * events whose commit failed; those stay unprocessed. `recover()` replays
 * unprocessed attendance and answers at start, before the alert service's own
 * recovery marks them. Records are keyed by event id (attendance) or by the
 * check's state (answers), so a replay of an applied event changes nothing.
 */
export class FireRoomEventRecords {
  private batch: Array<{ entry: AttendanceEntry; eventId: string }> = [];
  /** Commits in event order. Never waits on the alert queue (the alert queue waits on it). */
  private commits: Promise<void> = Promise.resolve();
  private readonly failed = new Set<string>();

  constructor(
    private readonly deps: {
      repo: FireRoomRepo;
      events: Pick<EventRepo, 'unprocessedOf'>;
      /** Applies a device's answer; throws CarewatchError NOT_FOUND / POST_CHECK_CLOSED when there is nothing to answer. */
      answer: (a: DeviceAnswer) => Promise<void>;
      /** Told after each commit which sites' attendance changed (to re-evaluate their staffing). */
      changed: (sites: ReadonlySet<string>) => void;
    },
  ) {}

  /** Queues the record of one stored event, if it is of a kind kept here. */
  push(n: StoredEventNotice): void {
    const e = n.envelope;
    if (e.kind === 'attendance') {
      if (this.batch.length === 0) {
        // the first of a burst queues the commit behind the previous one: order is kept
        this.commits = this.commits.then(
          () =>
            new Promise<void>((resolve) => setImmediate(() => void this.flushAttendance().finally(resolve))),
        );
      }
      this.batch.push(attendanceOf(n));
    } else {
      const answer = answerOf(n);
      if (answer) this.commits = this.commits.then(() => this.applyAnswer(answer));
    }
  }

  /**
   * Waits for the commits queued so far, then returns which of these events
   * could not be committed (and forgets them: they stay unprocessed for the
   * next start to replay).
   */
  async unapplied(ids: readonly string[]): Promise<ReadonlySet<string>> {
    await this.commits;
    const out = new Set<string>();
    if (this.failed.size === 0) return out;
    for (const id of ids) if (this.failed.delete(id)) out.add(id);
    return out;
  }

  /** Waits until every record queued so far is committed (or has failed). */
  async idle(): Promise<void> {
    for (;;) {
      const c = this.commits;
      await c;
      if (c === this.commits && this.batch.length === 0) return;
    }
  }

  /** Replays what a crash left uncommitted; returns how many events were looked at. */
  async recover(): Promise<number> {
    let after: EventCursor | null = null;
    let total = 0;
    for (;;) {
      const page = await this.deps.events.unprocessedOf(KINDS, after, RECOVER_PAGE);
      if (page.length === 0) break;
      let run: Array<{ entry: AttendanceEntry; eventId: string }> = [];
      const changed = new Set<string>();
      const commitRun = async () => {
        if (run.length === 0) return;
        const applied = await this.deps.repo.recordAttendanceMany(run);
        for (const [i, r] of run.entries()) if (applied[i]) changed.add(r.entry.siteId);
        run = [];
      };
      for (const e of page) {
        const n: StoredEventNotice = {
          envelope: e.envelope,
          gatewayId: e.gatewayId,
          receivedAt: e.receivedAt,
        };
        if (e.kind === 'attendance') {
          run.push(attendanceOf(n));
          continue;
        }
        await commitRun();
        const answer = answerOf(n);
        if (answer) await this.applyAnswer(answer);
      }
      await commitRun();
      if (changed.size) this.deps.changed(changed);
      total += page.length;
      const last = page[page.length - 1]!;
      after = { receivedAt: last.receivedAt, id: last.id };
    }
    if (total) log.info({ events: total }, 'replayed fire-room records left unprocessed');
    return total;
  }

  private async flushAttendance(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    let applied: boolean[];
    try {
      applied = await this.deps.repo.recordAttendanceMany(batch);
    } catch (err) {
      for (const b of batch) this.failed.add(b.eventId);
      log.error(
        { err, events: batch.length },
        'attendance not committed; left unprocessed for the next start',
      );
      return;
    }
    const sites = new Set(batch.filter((_, i) => applied[i]).map((b) => b.entry.siteId));
    if (sites.size) this.deps.changed(sites);
  }

  private async applyAnswer(a: DeviceAnswer): Promise<void> {
    try {
      await this.deps.answer(a);
    } catch (err) {
      if (err instanceof CarewatchError && (err.code === 'NOT_FOUND' || err.code === 'POST_CHECK_CLOSED')) {
        log.warn({ err: err.message, check: a.checkId }, 'device answer not applied');
        return;
      }
      this.failed.add(a.eventId);
      log.error(
        { err, check: a.checkId },
        'device answer not committed; left unprocessed for the next start',
      );
    }
  }
}

function attendanceOf(n: StoredEventNotice): { entry: AttendanceEntry; eventId: string } {
  const e = n.envelope;
  if (e.kind !== 'attendance') throw new TypeError(`not an attendance event: ${e.kind}`);
  return {
    entry: {
      siteId: e.siteId,
      operatorId: e.data.operatorId ?? null,
      action: e.data.action,
      count: e.data.count ?? null,
      source: `${e.data.source}:${e.deviceId}`,
      at: Date.parse(e.ts) || n.receivedAt,
    },
    eventId: e.id,
  };
}

function answerOf(n: StoredEventNotice): DeviceAnswer | null {
  const e = n.envelope;
  if (e.kind !== 'post_check' || e.data.outcome !== 'answered') return null;
  return {
    eventId: e.id,
    checkId: e.data.checkId,
    by: e.data.answeredBy ?? `device:${e.deviceId}`,
    via: e.data.via,
    siteId: e.siteId,
    at: n.receivedAt,
  };
}
