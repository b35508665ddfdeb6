import type { AlertNotice, CentralBus, StoredEventNotice } from '../../central/bus.js';
import { type Clock, systemClock } from '../../lib/clock.js';
import type { Metrics } from '../../lib/metrics.js';
import type { GatewayHeartbeatData } from '../../protocol/kinds/gateway-heartbeat.js';
import type { AlertChangePoint, EventPoint, Point, TimeSeries } from './types.js';

/**
 * Turns what happens in the central into time-series points: every stored
 * event (`event.stored`), every alert change (`alert.changed`) and every
 * gateway heartbeat (the ingest router calls `heartbeat`). Drills are left
 * out: the charts show real activity; the store keeps the drills.
 */
export class TelemetryRecorder {
  private offs: Array<() => void> = [];

  constructor(
    private readonly deps: { bus: CentralBus; series: TimeSeries; clock?: Clock; metrics?: Metrics },
  ) {}

  start(): void {
    const { bus } = this.deps;
    this.offs.push(
      bus.on('event.stored', (n) => this.onEvent(n)),
      bus.on('alert.changed', (n) => this.onAlert(n)),
    );
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  /** A gateway heartbeat, at the central's receive time. */
  heartbeat(siteId: string, gatewayId: string, data: GatewayHeartbeatData, at?: number): void {
    this.record({
      m: 'gateway_heartbeat',
      at: at ?? (this.deps.clock ?? systemClock).now(),
      siteId,
      gatewayId,
      uptimeS: data.uptimeS,
      outboxDepth: data.outboxDepth,
    });
  }

  private onEvent({ envelope, receivedAt }: StoredEventNotice): void {
    if (envelope.drill) return;
    const ts = Date.parse(envelope.ts);
    const p: EventPoint = {
      m: 'events',
      at: Number.isFinite(ts) ? ts : receivedAt,
      siteId: envelope.siteId,
      kind: envelope.kind,
    };
    this.record(p);
  }

  private onAlert({ alert, change }: AlertNotice): void {
    if (alert.drill) return;
    const at =
      change === 'opened'
        ? alert.openedAt
        : change === 'acknowledged'
          ? (alert.ackedAt ?? alert.updatedAt)
          : change === 'resolved'
            ? (alert.resolvedAt ?? alert.updatedAt)
            : alert.updatedAt;
    const p: AlertChangePoint = {
      m: 'alert_changes',
      at,
      siteId: alert.siteId,
      type: alert.type,
      severity: alert.severity,
      change,
    };
    if (change === 'acknowledged' && alert.ackedAt !== null) {
      p.ackSeconds = Math.max(0, (alert.ackedAt - alert.openedAt) / 1000);
    }
    this.record(p);
  }

  private record(p: Point): void {
    this.deps.metrics
      ?.counter('carewatch_timeseries_points_total', 'time-series points recorded', ['measurement'])
      .inc({ measurement: p.m });
    this.deps.series.write([p]);
  }
}
