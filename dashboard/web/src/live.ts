import type { Alert } from './api.js';

type Listener = (alerts: Map<string, Alert>, change?: { change: string; alert: Alert }) => void;
/** Any message of the socket (accident and hazard changes are handled in views/accidents-live.ts). */
export type MessageListener = (msg: { type: string; [k: string]: unknown }) => void;

/**
 * The supervisor WebSocket: a snapshot, then every change in scope.
 * Reconnects by itself with backoff and reports whether it is connected.
 */
export class LiveAlerts {
  readonly alerts = new Map<string, Alert>();
  private ws: WebSocket | undefined;
  private retry = 500;
  private closed = false;
  private listeners = new Set<Listener>();
  private messageListeners = new Set<MessageListener>();
  onConnection: (up: boolean) => void = () => {};

  connect(): void {
    this.closed = false;
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 500;
      this.onConnection(true);
    };
    ws.onclose = () => {
      this.onConnection(false);
      if (!this.closed) setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 10_000);
    };
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as {
        type: string;
        alerts?: Alert[];
        alert?: Alert;
        change?: string;
      };
      for (const fn of this.messageListeners) fn(msg);
      if (msg.type === 'snapshot') {
        this.alerts.clear();
        for (const a of msg.alerts ?? []) this.alerts.set(a.id, a);
        this.emit();
      } else if (msg.type === 'alert' && msg.alert) {
        this.alerts.set(msg.alert.id, msg.alert);
        this.emit({ change: msg.change ?? 'updated', alert: msg.alert });
      }
    };
  }

  update(a: Alert): void {
    this.alerts.set(a.id, a);
    this.emit();
  }

  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onMessage(fn: MessageListener): () => void {
    this.messageListeners.add(fn);
    return () => this.messageListeners.delete(fn);
  }

  private emit(change?: { change: string; alert: Alert }): void {
    for (const fn of this.listeners) fn(this.alerts, change);
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }
}
