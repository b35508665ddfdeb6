import type { AccidentEvents } from '../alerts/accidents/types.js';
import type { HazardEvents } from '../alerts/hazards/types.js';
import { EventBus } from '../lib/event-bus.js';
import type { CommandReply, Envelope } from '../protocol/index.js';
import type { Alert, AuditEntry } from '../storage/types.js';

export interface StoredEventNotice {
  envelope: Envelope;
  gatewayId: string | null;
  receivedAt: number;
  /**
   * Set when the safety net announces a stored event again (central/redeliver.ts). Modules that
   * apply each event once handle it like any notice (a repeat changes nothing); counters of
   * arrivals (the time series) skip it: they counted the event when it arrived, unless that first
   * notice was lost (the series counts arrivals as announced; the events table is the record).
   */
  redelivered?: true;
}

export interface PresenceNotice {
  gatewayId: string;
  siteId: string;
  state: 'online' | 'offline';
  at: number;
  reason: string | null;
}

export interface AlertNotice {
  alert: Alert;
  change: AuditEntry['action'];
}

/** What the central's modules tell each other. */
export interface CentralEvents extends AccidentEvents, HazardEvents {
  'event.stored': StoredEventNotice;
  'gateway.presence': PresenceNotice;
  'alert.changed': AlertNotice;
  'command.reply': { siteId: string; command: string; reply: CommandReply };
  'inventory.updated': { siteId: string };
}

export type CentralBus = EventBus<CentralEvents>;
export const createCentralBus = (): CentralBus => new EventBus<CentralEvents>();
