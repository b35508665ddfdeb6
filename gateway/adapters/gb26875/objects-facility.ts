import type { ObjectCodec } from './codec.js';
import {
  FACILITY_OPERATION_BITS,
  type FacilityOperation,
  PART_STATE_BITS,
  type PartStateFlag,
  SYSTEM_STATE_BITS,
  type SystemStateFlag,
  setFlags,
} from './flags.js';
import { decodeText, encodeText, PART_TEXT_BYTES } from './text.js';
import { type Gb26875Time, readTime, writeTime } from './time.js';

/**
 * Information objects about the building fire facilities (建筑消防设施),
 * upload types 1..5 and 8 (GB/T 26875.3-2011 8.2.1.1 .. 8.2.1.8).
 */

/** Type 1, 10 bytes: system type, system address, state word LE, time. */
export interface SystemStateObject {
  type: 1;
  systemType: number;
  systemAddress: number;
  status: number;
  flags: SystemStateFlag[];
  time: Gb26875Time;
}

/** Type 2, 46 bytes: system type/address, part type, part address 4 LE, state LE, text 31, time. */
export interface PartStateObject {
  type: 2;
  systemType: number;
  systemAddress: number;
  partType: number;
  partAddress: number;
  status: number;
  flags: PartStateFlag[];
  text: string;
  time: Gb26875Time;
}

/** Type 3, 16 bytes: system type/address, part type/address, analog type, value (int16 LE), time. */
export interface AnalogObject {
  type: 3;
  systemType: number;
  systemAddress: number;
  partType: number;
  partAddress: number;
  analogType: number;
  value: number;
  time: Gb26875Time;
}

/** Type 4, 10 bytes: system type/address, operation flags, operator number, time. */
export interface FacilityOperationObject {
  type: 4;
  systemType: number;
  systemAddress: number;
  operation: number;
  operations: FacilityOperation[];
  operator: number;
  time: Gb26875Time;
}

/** Type 5, 4 bytes: system type/address, software major, minor. */
export interface FacilityVersionObject {
  type: 5;
  systemType: number;
  systemAddress: number;
  major: number;
  minor: number;
}

/** Type 8, 8 bytes: system type/address, the facility's clock. */
export interface FacilityTimeObject {
  type: 8;
  systemType: number;
  systemAddress: number;
  time: Gb26875Time;
}

function u8(buf: Buffer, i: number): number {
  return buf[i] ?? 0;
}

export const systemStateCodec: ObjectCodec<SystemStateObject> = {
  size: 10,
  decode(buf, o) {
    const status = buf.readUInt16LE(o + 2);
    return {
      type: 1,
      systemType: u8(buf, o),
      systemAddress: u8(buf, o + 1),
      status,
      flags: setFlags(status, SYSTEM_STATE_BITS),
      time: readTime(buf, o + 4),
    };
  },
  encode(obj) {
    const b = Buffer.alloc(10);
    b[0] = obj.systemType;
    b[1] = obj.systemAddress;
    b.writeUInt16LE(obj.status & 0xffff, 2);
    writeTime(obj.time, b, 4);
    return b;
  },
};

export const partStateCodec: ObjectCodec<PartStateObject> = {
  size: 46,
  decode(buf, o) {
    const status = buf.readUInt16LE(o + 7);
    return {
      type: 2,
      systemType: u8(buf, o),
      systemAddress: u8(buf, o + 1),
      partType: u8(buf, o + 2),
      partAddress: buf.readUInt32LE(o + 3),
      status,
      flags: setFlags(status, PART_STATE_BITS),
      text: decodeText(buf.subarray(o + 9, o + 9 + PART_TEXT_BYTES)),
      time: readTime(buf, o + 40),
    };
  },
  encode(obj) {
    const b = Buffer.alloc(46);
    b[0] = obj.systemType;
    b[1] = obj.systemAddress;
    b[2] = obj.partType;
    b.writeUInt32LE(obj.partAddress >>> 0, 3);
    b.writeUInt16LE(obj.status & 0xffff, 7);
    encodeText(obj.text).copy(b, 9);
    writeTime(obj.time, b, 40);
    return b;
  },
};

export const analogCodec: ObjectCodec<AnalogObject> = {
  size: 16,
  decode(buf, o) {
    return {
      type: 3,
      systemType: u8(buf, o),
      systemAddress: u8(buf, o + 1),
      partType: u8(buf, o + 2),
      partAddress: buf.readUInt32LE(o + 3),
      analogType: u8(buf, o + 7),
      value: buf.readInt16LE(o + 8),
      time: readTime(buf, o + 10),
    };
  },
  encode(obj) {
    const b = Buffer.alloc(16);
    b[0] = obj.systemType;
    b[1] = obj.systemAddress;
    b[2] = obj.partType;
    b.writeUInt32LE(obj.partAddress >>> 0, 3);
    b[7] = obj.analogType;
    b.writeInt16LE(obj.value, 8);
    writeTime(obj.time, b, 10);
    return b;
  },
};

export const facilityOperationCodec: ObjectCodec<FacilityOperationObject> = {
  size: 10,
  decode(buf, o) {
    const operation = u8(buf, o + 2);
    return {
      type: 4,
      systemType: u8(buf, o),
      systemAddress: u8(buf, o + 1),
      operation,
      operations: setFlags(operation, FACILITY_OPERATION_BITS),
      operator: u8(buf, o + 3),
      time: readTime(buf, o + 4),
    };
  },
  encode(obj) {
    const b = Buffer.alloc(10);
    b[0] = obj.systemType;
    b[1] = obj.systemAddress;
    b[2] = obj.operation;
    b[3] = obj.operator;
    writeTime(obj.time, b, 4);
    return b;
  },
};

export const facilityVersionCodec: ObjectCodec<FacilityVersionObject> = {
  size: 4,
  decode: (buf, o) => ({
    type: 5,
    systemType: u8(buf, o),
    systemAddress: u8(buf, o + 1),
    major: u8(buf, o + 2),
    minor: u8(buf, o + 3),
  }),
  encode: (obj) => Buffer.from([obj.systemType, obj.systemAddress, obj.major, obj.minor]),
};

export const facilityTimeCodec: ObjectCodec<FacilityTimeObject> = {
  size: 8,
  decode: (buf, o) => ({
    type: 8,
    systemType: u8(buf, o),
    systemAddress: u8(buf, o + 1),
    time: readTime(buf, o + 2),
  }),
  encode(obj) {
    const b = Buffer.alloc(8);
    b[0] = obj.systemType;
    b[1] = obj.systemAddress;
    writeTime(obj.time, b, 2);
    return b;
  },
};
