import { CarewatchError } from '../../../lib/errors.js';
import type { ObjectCodec } from './codec.js';
import {
  type InitDeviceObject,
  initDeviceCodec,
  type PostCheckObject,
  postCheckCodec,
  type SyncTimeObject,
  syncTimeCodec,
} from './objects-control.js';
import {
  type DeviceOperationObject,
  type DeviceStateObject,
  type DeviceTimeObject,
  type DeviceVersionObject,
  deviceOperationCodec,
  deviceStateCodec,
  deviceTimeCodec,
  deviceVersionCodec,
} from './objects-device.js';
import {
  type AnalogObject,
  analogCodec,
  type FacilityOperationObject,
  type FacilityTimeObject,
  type FacilityVersionObject,
  facilityOperationCodec,
  facilityTimeCodec,
  facilityVersionCodec,
  type PartStateObject,
  partStateCodec,
  type SystemStateObject,
  systemStateCodec,
} from './objects-facility.js';

export type {
  AnalogObject,
  DeviceOperationObject,
  DeviceStateObject,
  DeviceTimeObject,
  DeviceVersionObject,
  FacilityOperationObject,
  FacilityTimeObject,
  FacilityVersionObject,
  InitDeviceObject,
  PartStateObject,
  PostCheckObject,
  SyncTimeObject,
  SystemStateObject,
};

/**
 * Application data unit (应用数据单元, GB/T 26875.3-2011 clause 7):
 * type flag (类型标志) 1 byte, object count (信息对象数目) 1 byte, then
 * `count` information objects of that type, back to back.
 */
export const DataType = {
  systemState: 1,
  partState: 2,
  analog: 3,
  facilityOperation: 4,
  facilityVersion: 5,
  systemConfig: 6,
  partConfig: 7,
  facilityTime: 8,
  deviceState: 21,
  deviceOperation: 24,
  deviceVersion: 25,
  deviceConfig: 26,
  deviceTime: 28,
  initDevice: 89,
  syncTime: 90,
  postCheck: 91,
} as const;

/** An object of a type this module does not decode: kept as bytes. */
export interface RawObject {
  type: number;
  raw: Buffer;
}

export type KnownObject =
  | SystemStateObject
  | PartStateObject
  | AnalogObject
  | FacilityOperationObject
  | FacilityVersionObject
  | FacilityTimeObject
  | DeviceStateObject
  | DeviceOperationObject
  | DeviceVersionObject
  | DeviceTimeObject
  | InitDeviceObject
  | SyncTimeObject
  | PostCheckObject;

export type Gb26875Object = KnownObject | RawObject;

export interface AppData {
  type: number;
  count: number;
  objects: KnownObject[];
  /** False when the type is not decoded here (objects are then empty; `raw` holds the bytes). */
  known: boolean;
  raw: Buffer;
}

/** Widens a typed codec for the registry; the `type` byte selects it, so it only sees its own objects. */
function entry<T extends KnownObject>(codec: ObjectCodec<T>): ObjectCodec<KnownObject> {
  return codec as unknown as ObjectCodec<KnownObject>;
}

const CODECS: Readonly<Record<number, ObjectCodec<KnownObject>>> = {
  1: entry(systemStateCodec),
  2: entry(partStateCodec),
  3: entry(analogCodec),
  4: entry(facilityOperationCodec),
  5: entry(facilityVersionCodec),
  8: entry(facilityTimeCodec),
  21: entry(deviceStateCodec),
  24: entry(deviceOperationCodec),
  25: entry(deviceVersionCodec),
  28: entry(deviceTimeCodec),
  89: entry(initDeviceCodec),
  90: entry(syncTimeCodec),
  91: entry(postCheckCodec),
};

/** Fixed object size of a type, or undefined when not decoded here. */
export function objectSize(type: number): number | undefined {
  return CODECS[type]?.size;
}

export function isRawObject(o: Gb26875Object): o is RawObject {
  return 'raw' in o;
}

/**
 * Decodes the application data of a frame. Throws GB26875_BAD_PAYLOAD when
 * the bytes do not match the declared type and count. Unknown types are
 * returned with `known: false` (not an error: the device is still confirmed).
 */
export function decodeAppData(data: Buffer): AppData {
  if (data.length < 2) {
    throw new CarewatchError(
      'GB26875_BAD_PAYLOAD',
      `application data is ${data.length} bytes, at least 2 expected`,
      {
        length: data.length,
      },
    );
  }
  const type = data[0] ?? 0;
  const count = data[1] ?? 0;
  const codec = CODECS[type];
  if (!codec) return { type, count, objects: [], known: false, raw: Buffer.from(data) };
  const want = 2 + count * codec.size;
  if (data.length !== want) {
    throw new CarewatchError(
      'GB26875_BAD_PAYLOAD',
      `type ${type} with ${count} objects of ${codec.size} bytes needs ${want} bytes of application data, got ${data.length}`,
      { type, count, length: data.length, expected: want },
    );
  }
  const objects: KnownObject[] = [];
  for (let i = 0; i < count; i++) objects.push(codec.decode(data, 2 + i * codec.size));
  return { type, count, objects, known: true, raw: Buffer.from(data) };
}

/** Encodes objects of one type (at least one, at most 255) as application data. */
export function encodeAppData(objects: readonly Gb26875Object[]): Buffer {
  const first = objects[0];
  if (!first) throw new CarewatchError('GB26875_BAD_PAYLOAD', 'application data needs at least one object');
  if (objects.length > 255) {
    throw new CarewatchError('GB26875_BAD_PAYLOAD', `at most 255 objects per frame, got ${objects.length}`);
  }
  const parts: Buffer[] = [Buffer.from([first.type & 0xff, objects.length])];
  for (const o of objects) {
    if (o.type !== first.type) {
      throw new CarewatchError(
        'GB26875_BAD_PAYLOAD',
        `objects of types ${first.type} and ${o.type} in one frame`,
      );
    }
    if (isRawObject(o)) {
      parts.push(o.raw);
      continue;
    }
    const codec = CODECS[o.type];
    if (!codec) throw new CarewatchError('GB26875_BAD_PAYLOAD', `no encoder for type ${o.type}`);
    parts.push(codec.encode(o));
  }
  return Buffer.concat(parts);
}
