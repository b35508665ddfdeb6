import { logger } from './logger.js';

const log = logger('bus');

type Listener<T> = (payload: T) => void | Promise<void>;

/**
 * A typed in-process event bus. A listener that throws or rejects is logged
 * and counted; it never stops the emitter or the listeners after it.
 */
export class EventBus<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();
  failures = 0;

  on<K extends keyof Events>(name: K, fn: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const fn of set) {
      try {
        const r = (fn as Listener<Events[K]>)(payload);
        if (r && typeof (r as Promise<void>).catch === 'function') {
          (r as Promise<void>).catch((err) => this.fail(name, err));
        }
      } catch (err) {
        this.fail(name, err);
      }
    }
  }

  private fail(name: keyof Events, err: unknown): void {
    this.failures++;
    log.error({ err, event: String(name) }, 'event listener failed');
  }
}
