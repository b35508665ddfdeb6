/** What the retention sweeper reports (through its `onEvent` callback). */
import type { DegradationMode, DegradeAction } from './degradation.js';

export type RetentionEvent =
  | { type: 'segments_expired'; cameraId: string; count: number; bytes: number; cutoffMs: number; at: number }
  /** The disk cannot hold policy + margin days at the measured rates. */
  | {
      type: 'retention_at_risk';
      forecastDays: number;
      policyDays: number;
      marginDays: number;
      freeBytes: number;
      bytesPerDay: number;
      at: number;
    }
  | { type: 'retention_ok'; forecastDays: number; policyDays: number; at: number }
  | {
      type: 'recording_degraded';
      cameraId: string;
      action: DegradeAction;
      mode: DegradationMode;
      freeBytes: number;
      reserveBytes: number;
      at: number;
    }
  | { type: 'recording_restored'; cameraId: string; action: DegradeAction; freeBytes: number; at: number }
  /** Free space is below the reserve but no recording control is wired: nothing could be done. */
  | { type: 'disk_reserve_reached'; freeBytes: number; reserveBytes: number; at: number }
  | { type: 'disk_probe_failed'; message: string; at: number }
  /** Reconciliation found more rows without files than the safety limit allows: nothing dropped. */
  | {
      type: 'reconcile_refused';
      missing: number;
      checked: number;
      maxRows: number;
      maxFraction: number;
      at: number;
    }
  | { type: 'orphans_reconciled'; indexed: number; deleted: number; dropped: number; at: number }
  | { type: 'retention_error'; code: string; message: string; at: number };

export type RetentionEventHandler = (event: RetentionEvent) => void;
