import { PART_TYPES, SYSTEM_TYPES } from './flags.js';
import type { DeviceOperationObject, DeviceStateObject } from './objects-device.js';
import type { FacilityOperationObject, PartStateObject, SystemStateObject } from './objects-facility.js';
import type { AppData } from './payload.js';
import { DEFAULT_TZ_OFFSET_MIN, type Gb26875Time, timeToEpoch } from './time.js';

/**
 * Normalised events from decoded application data. A status word is a full
 * snapshot, so each tracked flag yields an event with `active` true or
 * false: a cleared flag resolves the matching alert. Momentary things
 * (operations, resets, configuration changes, post-check replies) are
 * emitted only when their bit is set. `StateTracker` drops snapshots that
 * repeat the last delivered value, so heartbeats do not flood the outbox.
 */

export type Gb26875EventKind =
  | 'fire'
  | 'fault'
  | 'shield'
  | 'supervise'
  | 'start'
  | 'feedback'
  | 'delay'
  | 'power_fault'
  | 'bus_fault'
  | 'link_fault'
  | 'manual_mode'
  | 'config_change'
  | 'reset'
  | 'device_state'
  | 'operation'
  | 'post_check_reply';

export interface Gb26875SystemRef {
  type: number;
  address: number;
  name?: string;
}

export interface Gb26875PartRef {
  type: number;
  address: number;
  name?: string;
}

export interface Gb26875Event {
  kind: Gb26875EventKind;
  active: boolean;
  /** Address of the transmission device (frame source address). */
  device: number;
  /** The fire system concerned; null for the transmission device's own state. */
  system: Gb26875SystemRef | null;
  part?: Gb26875PartRef;
  /**
   * power_fault: 'main' | 'backup' | 'part'; link_fault: 'centre' | 'monitor_line';
   * reset: 'state' | 'operation'; operation: the operation name.
   */
  detail?: string;
  /** Part description (GB 18030 decoded) where the device sent one. */
  text?: string;
  operator?: number;
  /** Only when the receiver honours the test bit and it says "test state". */
  test?: boolean;
  /** All set flags of the status word that produced the event. */
  flags?: string[];
  /** Epoch ms of the object's time label (falls back to the frame's, then to receipt). */
  at: number;
  /** Type flag of the application data it came from. */
  dataType: number;
}

export interface NormalizeOptions {
  device: number;
  /** Used when an object's time label is invalid. */
  fallbackAt: number;
  tzOffsetMinutes?: number;
  honourTestBit?: boolean;
}

const MOMENTARY: ReadonlySet<Gb26875EventKind> = new Set([
  'config_change',
  'reset',
  'operation',
  'post_check_reply',
]);

export function isMomentary(kind: Gb26875EventKind): boolean {
  return MOMENTARY.has(kind);
}

type Spec = [flag: string, kind: Gb26875EventKind, detail?: string];

const SYSTEM_SPECS: Spec[] = [
  ['fire', 'fire'],
  ['fault', 'fault'],
  ['shield', 'shield'],
  ['supervise', 'supervise'],
  ['start', 'start'],
  ['feedback', 'feedback'],
  ['delay', 'delay'],
  ['main_power_fault', 'power_fault', 'main'],
  ['backup_power_fault', 'power_fault', 'backup'],
  ['bus_fault', 'bus_fault'],
  ['manual', 'manual_mode'],
];

const PART_SPECS: Spec[] = [
  ['fire', 'fire'],
  ['fault', 'fault'],
  ['shield', 'shield'],
  ['supervise', 'supervise'],
  ['start', 'start'],
  ['feedback', 'feedback'],
  ['delay', 'delay'],
  ['power_fault', 'power_fault', 'part'],
];

const DEVICE_SPECS: Spec[] = [
  ['fire', 'fire'],
  ['fault', 'fault'],
  ['main_power_fault', 'power_fault', 'main'],
  ['backup_power_fault', 'power_fault', 'backup'],
  ['link_fault', 'link_fault', 'centre'],
  ['monitor_line_fault', 'link_fault', 'monitor_line'],
];

function system(type: number, address: number): Gb26875SystemRef {
  const name = SYSTEM_TYPES[type];
  return name ? { type, address, name } : { type, address };
}

function part(type: number, address: number): Gb26875PartRef {
  const name = PART_TYPES[type];
  return name ? { type, address, name } : { type, address };
}

export function toEvents(app: AppData, opts: NormalizeOptions): Gb26875Event[] {
  const out: Gb26875Event[] = [];
  const at = (t: Gb26875Time) =>
    timeToEpoch(t, opts.tzOffsetMinutes ?? DEFAULT_TZ_OFFSET_MIN) ?? opts.fallbackAt;
  const base = (dataType: number, t: Gb26875Time) => ({ device: opts.device, at: at(t), dataType });
  const test = (flags: string[]) => (opts.honourTestBit && !flags.includes('normal') ? { test: true } : {});
  for (const o of app.objects) {
    switch (o.type) {
      case 1:
        out.push(...systemEvents(o, { ...base(1, o.time), ...test(o.flags) }));
        break;
      case 2:
        out.push(...partEvents(o, { ...base(2, o.time), ...test(o.flags) }));
        break;
      case 4:
        out.push(...facilityOpEvents(o, base(4, o.time)));
        break;
      case 21:
        out.push(...deviceStateEvents(o, { ...base(21, o.time), ...test(o.flags) }));
        break;
      case 24:
        out.push(...deviceOpEvents(o, base(24, o.time)));
        break;
      default:
        break; // analog values, versions, clocks: no events
    }
  }
  return out;
}

type Base = Pick<Gb26875Event, 'device' | 'at' | 'dataType' | 'test'>;

function fromSpecs(
  specs: Spec[],
  flags: readonly string[],
  common: Omit<Gb26875Event, 'kind' | 'active' | 'detail'>,
): Gb26875Event[] {
  return specs.map(([flag, kind, detail]) => ({
    ...common,
    kind,
    active: flags.includes(flag),
    ...(detail ? { detail } : {}),
  }));
}

function systemEvents(o: SystemStateObject, b: Base): Gb26875Event[] {
  const common = { ...b, system: system(o.systemType, o.systemAddress), flags: [...o.flags] };
  const out = fromSpecs(SYSTEM_SPECS, o.flags, common);
  if (o.flags.includes('config_change')) out.push({ ...common, kind: 'config_change', active: true });
  if (o.flags.includes('reset')) out.push({ ...common, kind: 'reset', active: true, detail: 'state' });
  return out;
}

function partEvents(o: PartStateObject, b: Base): Gb26875Event[] {
  return fromSpecs(PART_SPECS, o.flags, {
    ...b,
    system: system(o.systemType, o.systemAddress),
    part: part(o.partType, o.partAddress),
    ...(o.text ? { text: o.text } : {}),
    flags: [...o.flags],
  });
}

function facilityOpEvents(o: FacilityOperationObject, b: Base): Gb26875Event[] {
  const common = { ...b, system: system(o.systemType, o.systemAddress), operator: o.operator };
  return o.operations.map((op) =>
    op === 'reset'
      ? { ...common, kind: 'reset' as const, active: true, detail: 'operation' }
      : { ...common, kind: 'operation' as const, active: true, detail: op },
  );
}

function deviceStateEvents(o: DeviceStateObject, b: Base): Gb26875Event[] {
  const common = { ...b, system: null, flags: [...o.flags] };
  const abnormal = o.flags.some((f) => f !== 'normal');
  return [{ ...common, kind: 'device_state', active: abnormal }, ...fromSpecs(DEVICE_SPECS, o.flags, common)];
}

function deviceOpEvents(o: DeviceOperationObject, b: Base): Gb26875Event[] {
  const common = { ...b, system: null, operator: o.operator };
  return o.operations.map((op) => {
    if (op === 'post_check_reply') return { ...common, kind: 'post_check_reply' as const, active: true };
    if (op === 'reset') return { ...common, kind: 'reset' as const, active: true, detail: 'operation' };
    return { ...common, kind: 'operation' as const, active: true, detail: op };
  });
}

/** Identity of the state an event describes (same key: later event supersedes). */
export function stateKey(e: Gb26875Event): string {
  const sys = e.system ? `${e.system.type}.${e.system.address}` : 'dev';
  const prt = e.part ? `${e.part.type}.${e.part.address}` : '-';
  return `${e.device}|${sys}|${prt}|${e.kind}|${e.detail ?? ''}`;
}

/**
 * Remembers the last delivered value of each tracked state and filters out
 * repeats. `filter` is pure; call `commit` only once the events are stored,
 * so a failed delivery is retried in full. Unknown states always pass (after
 * a restart a restore must still resolve an alert).
 */
export class StateTracker {
  private readonly last = new Map<string, boolean>();

  constructor(private readonly maxEntries = 50_000) {}

  filter(events: readonly Gb26875Event[]): Gb26875Event[] {
    return events.filter((e) => isMomentary(e.kind) || this.last.get(stateKey(e)) !== e.active);
  }

  commit(events: readonly Gb26875Event[]): void {
    for (const e of events) {
      if (isMomentary(e.kind)) continue;
      const k = stateKey(e);
      this.last.delete(k);
      this.last.set(k, e.active);
    }
    while (this.last.size > this.maxEntries) {
      const oldest = this.last.keys().next().value;
      if (oldest === undefined) break;
      this.last.delete(oldest);
    }
  }

  get size(): number {
    return this.last.size;
  }
}
