import { buildEnvelope } from '../../../protocol/build.js';
import { mintId } from '../../../protocol/ids.js';
import type { Envelope } from '../../../protocol/index.js';
import type { CentralStore, IncomingEvent, OpenDraft } from '../../../storage/types.js';

/** What a contract test needs from one store under test. */
export interface StoreHarness {
  store: CentralStore;
  /** Runs one SQL statement directly on the store's database, bypassing the repositories. */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export type OpenHarness = () => Promise<StoreHarness>;

/** The harness of the running test (a fresh, empty store per test). */
export type Current = () => StoreHarness;

export const T0 = 1_700_000_000_000;

export function call(
  opts: { siteId?: string; deviceId?: string; seq?: number; at?: number; drill?: boolean; id?: string } = {},
): Envelope {
  return buildEnvelope({
    kind: 'emergency_call',
    siteId: opts.siteId ?? 'site-a',
    deviceId: opts.deviceId ?? 'btn-1',
    seq: opts.seq ?? 1,
    data: { action: 'pressed', room: '101' },
    ts: new Date(opts.at ?? T0),
    ...(opts.drill ? { drill: true } : {}),
    ...(opts.id ? { id: opts.id } : {}),
  });
}

export function heartbeat(opts: { siteId?: string; seq?: number; at?: number } = {}): Envelope {
  return buildEnvelope({
    kind: 'gateway_heartbeat',
    siteId: opts.siteId ?? 'site-a',
    deviceId: 'gw-a',
    seq: opts.seq ?? 1,
    data: { uptimeS: 10, intervalS: 30, outboxDepth: 0, version: '0.1.0' },
    ts: new Date(opts.at ?? T0),
  });
}

export const incoming = (
  envelope: Envelope,
  receivedAt = T0,
  gatewayId: string | null = 'gw-a',
): IncomingEvent => ({
  envelope,
  gatewayId,
  receivedAt,
});

/** Stores one event and returns its id (for the exactly-once claim). */
export async function storedEvent(
  store: CentralStore,
  opts: Parameters<typeof call>[0] = {},
): Promise<string> {
  const e = call(opts);
  const [fresh] = await store.events.insertBatch([incoming(e, opts.at ?? T0)]);
  if (!fresh) throw new Error('fixture event was not new');
  return e.id;
}

export function draft(over: Partial<OpenDraft> = {}): OpenDraft {
  return {
    id: mintId(),
    siteId: 'site-a',
    source: 'btn-1',
    type: 'emergency_call',
    severity: 'critical',
    title: 'Emergency call, room 101',
    eventId: null,
    drill: false,
    at: T0,
    nextEscalationAt: T0 + 60_000,
    suppressed: null,
    actor: 'system:rules',
    ...over,
  };
}

export const KEY = { siteId: 'site-a', source: 'btn-1', type: 'emergency_call' };
