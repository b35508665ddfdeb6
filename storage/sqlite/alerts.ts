import { type AlertRow, toAlert } from '../rows.js';
import type {
  Alert,
  AlertKey,
  AlertQuery,
  AlertRepo,
  AlertState,
  AuditEntry,
  OpenDraft,
  OpenResult,
} from '../types.js';
import type { Db } from './open.js';
import { stmt } from './statements.js';

export class SqliteAlertRepo implements AlertRepo {
  constructor(private readonly db: Db) {}

  private audit_(e: AuditEntry): void {
    stmt(
      this.db,
      `INSERT INTO alert_audit (alert_id, at, actor, action, from_state, to_state, level, note, event_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(e.alertId, e.at, e.actor, e.action, e.fromState, e.toState, e.level, e.note, e.eventId);
  }

  private findOpen(k: AlertKey): Alert | null {
    const r = stmt(
      this.db,
      `SELECT * FROM alerts WHERE site_id = ? AND source = ? AND type = ? AND state <> 'resolved'`,
    ).get(k.siteId, k.source, k.type) as AlertRow | undefined;
    return r ? toAlert(r) : null;
  }

  private getSync(id: string): Alert | null {
    const r = stmt(this.db, 'SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return r ? toAlert(r) : null;
  }

  /** Claims the triggering event; false when it was processed already (by us earlier or another instance). */
  private claim(eventId: string | undefined): boolean {
    if (!eventId) return true;
    return (
      stmt(this.db, 'UPDATE events SET processed = 1 WHERE id = ? AND processed = 0').run(eventId).changes ===
      1
    );
  }

  /**
   * Events of one key can arrive out of order (several ingest instances, a
   * dead instance's queue delivered late). The key remembers the newest
   * sequence number applied and whether it opened or resolved; an older
   * event never overrides a newer one: a late open after a newer resolve is
   * recorded as an alert that is resolved at once, a late resolve is noted
   * only. Returns true when the event is late.
   */
  private late(k: AlertKey, seq: number | undefined, op: 'open' | 'resolve'): 'open' | 'resolve' | null {
    if (seq === undefined) return null;
    const row = stmt(
      this.db,
      'SELECT last_seq, last_op FROM alert_key_seq WHERE site_id = ? AND source = ? AND type = ?',
    ).get(k.siteId, k.source, k.type) as { last_seq: number; last_op: 'open' | 'resolve' } | undefined;
    if (row && seq < row.last_seq) return row.last_op;
    stmt(
      this.db,
      `INSERT INTO alert_key_seq (site_id, source, type, last_seq, last_op) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(site_id, source, type) DO UPDATE SET last_seq = excluded.last_seq, last_op = excluded.last_op`,
    ).run(k.siteId, k.source, k.type, seq, op);
    return null;
  }

  private insertAlert(d: OpenDraft): void {
    stmt(
      this.db,
      `INSERT INTO alerts (id, site_id, source, type, severity, state, title, event_id, drill, count,
           opened_at, updated_at, escalation_level, next_escalation_at, suppressed)
         VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, 1, ?, ?, 0, ?, ?)`,
    ).run(
      d.id,
      d.siteId,
      d.source,
      d.type,
      d.severity,
      d.title,
      d.eventId,
      d.drill ? 1 : 0,
      d.at,
      d.at,
      d.nextEscalationAt,
      d.suppressed,
    );
    this.audit_({
      alertId: d.id,
      at: d.at,
      actor: d.actor,
      action: 'opened',
      fromState: null,
      toState: 'open',
      level: 0,
      note: null,
      eventId: d.eventId,
    });
  }

  async openOrRepeat(d: OpenDraft, processedEventId?: string): Promise<OpenResult | 'already-processed'> {
    return this.db.transaction((): OpenResult | 'already-processed' => {
      if (!this.claim(processedEventId)) return 'already-processed';
      const lateAfter = this.late(d, d.seq, 'open');
      if (lateAfter === 'resolve') {
        // happened before something that already closed it: keep it as history
        this.insertAlert(d);
        const alert = this.applyResolve(this.getSync(d.id)!, {
          actor: 'system:late-event',
          at: d.at,
          note: 'arrived after a later event of the same device had closed it',
          eventId: d.eventId,
        });
        return { alert: alert!, created: true };
      }
      const open = this.findOpen(d);
      if (open) {
        stmt(this.db, 'UPDATE alerts SET count = count + 1, updated_at = ? WHERE id = ?').run(d.at, open.id);
        this.audit_({
          alertId: open.id,
          at: d.at,
          actor: d.actor,
          action: 'repeated',
          fromState: open.state,
          toState: open.state,
          level: open.escalationLevel,
          note: null,
          eventId: d.eventId,
        });
        return { alert: this.getSync(open.id)!, created: false };
      }
      this.insertAlert(d);
      return { alert: this.getSync(d.id)!, created: true };
    })();
  }

  async resolveByKey(
    key: AlertKey,
    by: { actor: string; at: number; note: string; eventId: string | null; seq?: number | undefined },
    processedEventId?: string,
  ): Promise<Alert | null | 'already-processed'> {
    return this.db.transaction((): Alert | null | 'already-processed' => {
      if (!this.claim(processedEventId)) return 'already-processed';
      // a resolve older than the key's newest event changes nothing: the newer event decided
      if (this.late(key, by.seq, 'resolve')) return null;
      const open = this.findOpen(key);
      if (!open) return null;
      return this.applyResolve(open, by);
    })();
  }

  private applyResolve(
    a: Alert,
    by: { actor: string; at: number; note: string | null; eventId?: string | null },
  ) {
    stmt(
      this.db,
      `UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = ?, updated_at = ?,
           next_escalation_at = NULL WHERE id = ?`,
    ).run(by.at, by.actor, by.at, a.id);
    this.audit_({
      alertId: a.id,
      at: by.at,
      actor: by.actor,
      action: 'resolved',
      fromState: a.state,
      toState: 'resolved',
      level: a.escalationLevel,
      note: by.note,
      eventId: by.eventId ?? null,
    });
    return this.getSync(a.id);
  }

  async transition(
    id: string,
    from: AlertState[],
    to: 'acknowledged' | 'resolved',
    by: { actor: string; at: number; note: string | null },
  ): Promise<Alert | null> {
    return this.db.transaction((): Alert | null => {
      const a = this.getSync(id);
      if (!a || !from.includes(a.state)) return null;
      if (to === 'resolved') return this.applyResolve(a, by);
      stmt(
        this.db,
        `UPDATE alerts SET state = 'acknowledged', acked_at = ?, acked_by = ?, updated_at = ?,
             next_escalation_at = NULL WHERE id = ?`,
      ).run(by.at, by.actor, by.at, id);
      this.audit_({
        alertId: id,
        at: by.at,
        actor: by.actor,
        action: 'acknowledged',
        fromState: a.state,
        toState: 'acknowledged',
        level: a.escalationLevel,
        note: by.note,
        eventId: null,
      });
      return this.getSync(id);
    })();
  }

  async escalate(
    id: string,
    fromLevel: number,
    at: number,
    nextEscalationAt: number | null,
    actor: string,
  ): Promise<Alert | null> {
    return this.db.transaction((): Alert | null => {
      const r = stmt(
        this.db,
        `UPDATE alerts SET escalation_level = escalation_level + 1, repeat_count = 0, next_escalation_at = ?,
             updated_at = ?
           WHERE id = ? AND state = 'open' AND escalation_level = ?`,
      ).run(nextEscalationAt, at, id, fromLevel);
      if (r.changes !== 1) return null;
      this.audit_({
        alertId: id,
        at,
        actor,
        action: 'escalated',
        fromState: 'open',
        toState: 'open',
        level: fromLevel + 1,
        note: null,
        eventId: null,
      });
      return this.getSync(id);
    })();
  }

  async renotify(id: string, r: Parameters<AlertRepo['renotify']>[1]): Promise<Alert | null> {
    return this.db.transaction((): Alert | null => {
      const u = stmt(
        this.db,
        `UPDATE alerts SET repeat_count = ?, next_escalation_at = ?, updated_at = ?
           WHERE id = ? AND state = 'open' AND escalation_level = ? AND repeat_count = ?`,
      ).run(r.toRepeat, r.nextEscalationAt, r.at, id, r.level, r.fromRepeat);
      if (u.changes !== 1) return null;
      this.audit_({
        alertId: id,
        at: r.at,
        actor: r.actor,
        action: 'renotified',
        fromState: 'open',
        toState: 'open',
        level: r.level,
        note: r.note,
        eventId: null,
      });
      return this.getSync(id);
    })();
  }

  async get(id: string): Promise<Alert | null> {
    return this.getSync(id);
  }

  async list(q: AlertQuery): Promise<Alert[]> {
    const clauses: string[] = [];
    const args: unknown[] = [];
    if (q.siteIds) {
      clauses.push('site_id IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(q.siteIds));
    }
    if (q.types) {
      clauses.push('type IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(q.types));
    }
    if (q.states) {
      clauses.push('state IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(q.states));
    }
    const sql = `SELECT * FROM alerts ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}
                 ORDER BY opened_at DESC LIMIT ?`;
    return (stmt(this.db, sql).all(...args, q.limit ?? 500) as AlertRow[]).map(toAlert);
  }

  async due(now: number, limit: number): Promise<Alert[]> {
    return (
      stmt(
        this.db,
        `SELECT * FROM alerts WHERE next_escalation_at IS NOT NULL AND next_escalation_at <= ?
           ORDER BY next_escalation_at LIMIT ?`,
      ).all(now, limit) as AlertRow[]
    ).map(toAlert);
  }

  async nextDueAt(): Promise<number | null> {
    const r = stmt(
      this.db,
      'SELECT min(next_escalation_at) AS t FROM alerts WHERE next_escalation_at IS NOT NULL',
    ).get() as { t: number | null };
    return r.t;
  }

  async audit(id: string): Promise<AuditEntry[]> {
    const rows = stmt(this.db, 'SELECT * FROM alert_audit WHERE alert_id = ? ORDER BY id').all(id) as Array<{
      alert_id: string;
      at: number;
      actor: string;
      action: AuditEntry['action'];
      from_state: AlertState | null;
      to_state: AlertState | null;
      level: number | null;
      note: string | null;
      event_id: string | null;
    }>;
    return rows.map((r) => ({
      alertId: r.alert_id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      fromState: r.from_state,
      toState: r.to_state,
      level: r.level,
      note: r.note,
      eventId: r.event_id,
    }));
  }
}
