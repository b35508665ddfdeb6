import { api } from '../api.js';
import type { LiveAlerts } from '../live.js';

export interface Accident {
  id: string;
  siteId: string;
  alertId: string | null;
  title: string;
  classifiedAt: number;
  classifiedBy: string;
  deadlineAt: number;
  state: 'pending_report' | 'reported' | 'overdue';
  reportedAt: number | null;
  reportedLate: boolean;
  warnedAt: number | null;
  overdueAt: number | null;
}

export interface AccidentReport {
  accidentId: string;
  at: number;
  by: string;
  toWhom: string;
  channel: 'phone' | 'online' | 'written';
  note: string | null;
  late: boolean;
}

export interface Hazard {
  id: string;
  siteId: string;
  source: string;
  kind: string;
  title: string;
  openedAt: number;
  alertId: string | null;
  responsible: string | null;
  rectifyBy: number | null;
  state: 'open' | 'rectifying' | 'closed';
  closedAt: number | null;
  closedBy: string | null;
  closeNote: string | null;
  escalatedAt: number | null;
}

type Listener = (kind: 'accident' | 'hazard', id: string) => void;

/**
 * Accidents and hazards of the user's scope, kept current by the supervisor
 * WebSocket: loaded over the API at start and after each reconnect, then
 * updated by the `accident` and `hazard` messages.
 */
export class SafetyLive {
  readonly accidents = new Map<string, Accident>();
  private readonly listeners = new Set<Listener>();
  private offs: Array<() => void> = [];

  attach(live: LiveAlerts): void {
    this.detach();
    this.offs.push(
      live.onMessage((msg) => {
        if (msg.type === 'snapshot') void this.load();
        else if (msg.type === 'accident' && msg.accident) this.put(msg.accident as Accident);
        else if (msg.type === 'hazard' && msg.hazard) this.emit('hazard', (msg.hazard as Hazard).id);
      }),
    );
    void this.load();
  }

  detach(): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.accidents.clear();
  }

  async load(): Promise<void> {
    try {
      const r = await api<{ accidents: Accident[] }>('/api/accidents?limit=500');
      this.accidents.clear();
      for (const a of r.accidents) this.accidents.set(a.id, a);
      this.emit('accident', '');
    } catch {
      // logged out or offline: the next snapshot loads again
    }
  }

  put(a: Accident): void {
    this.accidents.set(a.id, a);
    this.emit('accident', a.id);
  }

  byAlert(alertId: string): Accident | undefined {
    for (const a of this.accidents.values()) if (a.alertId === alertId) return a;
    return undefined;
  }

  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(kind: 'accident' | 'hazard', id: string): void {
    for (const fn of this.listeners) fn(kind, id);
  }
}

/** One per page: the board, the accidents view and the hazard ledger share it. */
export const safety = new SafetyLive();
