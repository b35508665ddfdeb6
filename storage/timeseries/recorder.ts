import type { AlertNotice, CentralBus, StoredEventNotice } from '../../central/bus.js';
import { type Clock, systemClock } from '../../lib/clock.js';
import type { Metrics } from '../../lib/metrics.js';
import type { GatewayHeartbeatData } from '../../protocol/kinds/gateway-heartbeat.js';
import type { AlertChangePoint, EventPoint, Point, TimeSeries } from './types.js';

/** How long stored events are summed before their points go to the time series. */
export const EVENT_WINDOW_MS = 1000;

/**
 * Turns what happens in the central into time-series points: stored events
 * (`event.stored`), every alert change (`alert.changed`) and every gateway
 * heartbeat (the ingest router calls `heartbeat`). Drills are left out: the
 * charts show real activity; the store keeps the drills.
 *
 * Events are counted, not listed: those of one site and kind dated in the
 * same second become one point with their count, written `eventWindowMs`
 * after the first of them arrived (and at stop). One row per event cost a
 * tenth of the central's time under load and grew the series with the store.
 */
export class TelemetryRecorder {
  private offs: Array<() => void> = [];
  private readonly counted = new Map<string, EventPoint & { count: number }>();
  private timer: { cancel(): void } | null = null;

  constructor(
    private readonly deps: {
      bus: CentralBus;
      series: TimeSeries;
      clock?: Clock;
      metrics?: Metrics;
      eventWindowMs?: number;
    },
  ) {}

  start(): void {
    const { bus } = this.deps;
    this.offs.push(
      bus.on('event.stored', (n) => this.onEvent(n)),
      bus.on('alert.changed', (n) => this.onAlert(n)),
    );
  }

  /** Stops listening and hands the events counted so far to the time series. */
  stop(): void {
    for (const off of this.offs.splice(0)) off();
    this.flushEvents();
  }

  /** Hands the events counted so far to the time series now. */
  flushEvents(): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.counted.size === 0) return;
    const points = [...this.counted.values()];
    this.counted.clear();
    for (const p of points) this.record(p);
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

  private onEvent({ envelope, receivedAt, redelivered }: StoredEventNotice): void {
    // an event announced again was counted when it arrived: counting it again would double it
    if (envelope.drill || redelivered) return;
    const ts = Date.parse(envelope.ts);
    const at = Math.floor((Number.isFinite(ts) ? ts : receivedAt) / 1000) * 1000;
    // ids and kind names hold no '|'
    const key = `${at}|${envelope.siteId}|${envelope.kind}`;
    const p = this.counted.get(key);
    if (p) {
      p.count++;
      return;
    }
    this.counted.set(key, { m: 'events', at, siteId: envelope.siteId, kind: envelope.kind, count: 1 });
    this.timer ??= (this.deps.clock ?? systemClock).setTimeout(
      () => this.flushEvents(),
      this.deps.eventWindowMs ?? EVENT_WINDOW_MS,
    );
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
