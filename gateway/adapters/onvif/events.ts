/**
 * PullPoint events of one camera: create a subscription, long-poll
 * PullMessages, renew it, and report motion and tampering as state changes.
 * On any failure it resubscribes with backoff until stopped.
 */
import { errorMessage } from '../../../lib/errors.js';
import { logger } from '../../../lib/logger.js';
import type { OnvifNotification, OnvifSession } from './client.js';

const log = logger('gateway:onvif:events');

export type CameraEventName = 'motion' | 'tamper';

/** Motion and tampering topics of the ONVIF topic set (and the rule-engine variants many cameras use). */
export function interpret(n: OnvifNotification): { event: CameraEventName; active: boolean } | undefined {
  const topic = n.topic.replace(/^[A-Za-z0-9_-]+:/, '');
  let event: CameraEventName | undefined;
  if (
    /^VideoSource\/MotionAlarm$|^RuleEngine\/CellMotionDetector\/Motion$|\/MotionDetector\/Motion$/i.test(
      topic,
    )
  )
    event = 'motion';
  else if (/^VideoSource\/GlobalSceneChange\/|^RuleEngine\/TamperDetector\/Tamper$|Tamper/i.test(topic))
    event = 'tamper';
  if (!event) return undefined;
  const raw = n.items.State ?? n.items.IsMotion ?? n.items.IsTamper ?? n.items.Value;
  if (raw === undefined) return undefined;
  return { event, active: /^(true|1)$/i.test(raw) };
}

export interface PullPointOptions {
  cameraId: string;
  session: OnvifSession;
  onEvent: (e: { event: CameraEventName; active: boolean }) => void;
  /** Backoff after a failure (default 1 s doubling to 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** Renew the subscription this often (default 60 s; the camera's termination time is about 2 min). */
  renewEveryMs?: number;
}

export class PullPointWatcher {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly last = new Map<CameraEventName, boolean>();

  constructor(private readonly o: PullPointOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    // Ask the camera to drop the subscription (briefly: it may be gone), then cut the held pull.
    await Promise.race([
      this.o.session.unsubscribe().catch(() => undefined),
      new Promise((r) => setTimeout(r, 1000).unref()),
    ]);
    this.o.session.close();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const b = { initialMs: 1000, maxMs: 30_000, ...this.o.backoff };
    let delay = b.initialMs;
    while (this.running) {
      try {
        await this.o.session.createPullPoint();
        delay = b.initialMs;
        let renewedAt = Date.now();
        while (this.running) {
          const messages = await this.o.session.pullMessages();
          for (const m of messages) this.handle(m);
          if (Date.now() - renewedAt > (this.o.renewEveryMs ?? 60_000)) {
            await this.o.session.renew();
            renewedAt = Date.now();
          }
        }
      } catch (err) {
        if (!this.running) break;
        log.warn({ cameraId: this.o.cameraId, err: errorMessage(err), retryMs: delay }, 'PullPoint failed');
        await this.sleep(delay);
        delay = Math.min(b.maxMs, delay * 2);
      }
    }
  }

  private handle(m: OnvifNotification): void {
    const e = interpret(m);
    if (!e || !this.running) return;
    const prev = this.last.get(e.event);
    // `Initialized` states the current value: reported only when it is an active one, or a change.
    if (m.operation === 'Initialized' && !e.active && prev === undefined) {
      this.last.set(e.event, false);
      return;
    }
    if (prev === e.active) return;
    this.last.set(e.event, e.active);
    this.o.onEvent(e);
  }
}
