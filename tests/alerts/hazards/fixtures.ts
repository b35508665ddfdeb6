import {
  HAZARD_MIGRATIONS,
  type HazardEvents,
  HazardService,
  SqliteHazardRepo,
} from '../../../alerts/hazards/index.js';
import type { ManualClock } from '../../../lib/clock.js';
import { migrate, openDatabase } from '../../../storage/sqlite/open.js';
import type { Alert, AlertQuery, AuditEntry } from '../../../storage/types.js';

let n = 0;

export function alertOf(p: Partial<Alert> & Pick<Alert, 'type' | 'openedAt'>): Alert {
  n++;
  return {
    id: `al-${n}`,
    siteId: 's1',
    source: `dev-${n}`,
    severity: 'minor',
    state: 'open',
    title: `${p.type} ${n}`,
    eventId: null,
    drill: false,
    count: 1,
    updatedAt: p.openedAt,
    ackedAt: null,
    ackedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    escalationLevel: 0,
    nextEscalationAt: null,
    suppressed: null,
    ...p,
  };
}

/** An in-memory alert store: what the hazard service reads of the real one. */
export class FakeAlerts {
  readonly byId = new Map<string, Alert>();
  readonly notes = new Map<string, string>();
  put(a: Alert): Alert {
    this.byId.set(a.id, a);
    return a;
  }
  async get(id: string) {
    return this.byId.get(id) ?? null;
  }
  async list(q: AlertQuery) {
    return [...this.byId.values()].filter(
      (a) => (!q.types || q.types.includes(a.type)) && (!q.states || q.states.includes(a.state)),
    );
  }
  async audit(id: string): Promise<AuditEntry[]> {
    const note = this.notes.get(id);
    return note === undefined
      ? []
      : [
          {
            alertId: id,
            at: 0,
            actor: 'user:x',
            action: 'resolved',
            fromState: 'open',
            toState: 'resolved',
            level: null,
            note,
            eventId: null,
          },
        ];
  }
}

export type Notice = { event: keyof HazardEvents; id: string; kind: string };

export function hazardHarness(
  path: string,
  clock: ManualClock,
  notices: Notice[],
  alerts?: FakeAlerts,
  config?: ConstructorParameters<typeof HazardService>[0]['config'],
) {
  const db = openDatabase(path);
  migrate(db, HAZARD_MIGRATIONS, 'hazard_migrations');
  const repo = new SqliteHazardRepo(db);
  const svc = new HazardService({
    repo,
    clock,
    config,
    alerts,
    emit: (event, p) => void notices.push({ event, id: p.hazard.id, kind: p.hazard.kind }),
  });
  return { db, repo, svc };
}
