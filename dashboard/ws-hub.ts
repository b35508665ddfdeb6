import type { WebSocket } from 'ws';
import type { CentralBus } from '../central/bus.js';
import { logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import type { Alert } from '../storage/types.js';
import { canSeeAlert, canSeeSite, type Scope } from './scope.js';

const log = logger('dashboard:ws');

/** Accident and hazard notices pushed as `{ type: 'accident' | 'hazard', change, ... }`. */
const ACCIDENT_CHANGES = {
  'accident.classified': 'classified',
  'accident.deadline_near': 'deadline_near',
  'accident.overdue': 'overdue',
  'accident.reported': 'reported',
} as const;
const HAZARD_CHANGES = { 'hazard.opened': 'opened', 'hazard.overdue': 'overdue' } as const;

interface Subscriber {
  socket: WebSocket;
  scope: Scope;
}

/** Fans alert, accident and hazard changes out to the supervisors allowed to see each site. */
export class WsHub {
  private readonly subs = new Set<Subscriber>();
  private offs: Array<() => void> = [];
  private ping: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { bus: CentralBus; metrics: Metrics }) {}

  start(): void {
    const { bus } = this.deps;
    this.offs = [bus.on('alert.changed', ({ alert, change }) => this.broadcast(alert, change))];
    for (const [event, change] of Object.entries(ACCIDENT_CHANGES) as Array<
      [keyof typeof ACCIDENT_CHANGES, string]
    >) {
      this.offs.push(
        bus.on(event, (n) => this.toSite(n.accident.siteId, { type: 'accident', change, ...n })),
      );
    }
    for (const [event, change] of Object.entries(HAZARD_CHANGES) as Array<
      [keyof typeof HAZARD_CHANGES, string]
    >) {
      this.offs.push(bus.on(event, ({ hazard }) => this.hazardChanged(hazard, change)));
    }
    this.ping = setInterval(() => {
      for (const s of this.subs) s.socket.ping();
    }, 25_000);
    this.ping.unref();
  }

  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
    if (this.ping) clearInterval(this.ping);
    for (const s of this.subs) s.socket.close(1001, 'server shutting down');
    this.subs.clear();
  }

  get size(): number {
    return this.subs.size;
  }

  add(socket: WebSocket, scope: Scope, snapshot: Alert[]): void {
    const sub = { socket, scope };
    this.subs.add(sub);
    this.gauge();
    socket.on('close', () => {
      this.subs.delete(sub);
      this.gauge();
    });
    socket.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
    socket.on('message', () => {
      // the channel is one-way; actions go through the REST API (role and CSRF checks live there)
    });
    this.send(sub, { type: 'snapshot', alerts: snapshot, at: Date.now() });
  }

  private broadcast(alert: Alert, change: string): void {
    const msg = JSON.stringify({ type: 'alert', change, alert, at: Date.now() });
    for (const s of this.subs) {
      if (canSeeAlert(s.scope, alert)) this.sendRaw(s, msg);
    }
  }

  /** A hazard change that has no bus notice of its own (assigned, closed). */
  hazardChanged(hazard: { siteId: string }, change: string): void {
    this.toSite(hazard.siteId, { type: 'hazard', change, hazard });
  }

  /** To every subscriber whose scope includes the site (as the accident and hazard routes check). */
  private toSite(siteId: string, obj: Record<string, unknown>): void {
    const msg = JSON.stringify({ ...obj, at: Date.now() });
    for (const s of this.subs) if (canSeeSite(s.scope, siteId)) this.sendRaw(s, msg);
  }

  private send(s: Subscriber, obj: unknown): void {
    this.sendRaw(s, JSON.stringify(obj));
  }

  private sendRaw(s: Subscriber, msg: string): void {
    if (s.socket.readyState !== s.socket.OPEN) return;
    // a supervisor whose connection cannot keep up is dropped, not allowed to hold memory
    if (s.socket.bufferedAmount > 8 * 1024 * 1024) {
      s.socket.terminate();
      return;
    }
    s.socket.send(msg);
    this.deps.metrics.counter('carewatch_ws_messages_total', 'messages pushed to supervisors').inc();
  }

  private gauge(): void {
    this.deps.metrics.gauge('carewatch_ws_clients', 'connected supervisor sockets').set(this.subs.size);
  }
}
