import type { ObjectCodec } from './codec.js';
import {
  DEVICE_OPERATION_BITS,
  DEVICE_STATE_BITS,
  type DeviceOperation,
  type DeviceStateFlag,
  setFlags,
} from './flags.js';
import { type Gb26875Time, readTime, writeTime } from './time.js';

/**
 * Information objects about the user information transmission device
 * itself (用户信息传输装置), upload types 21, 24, 25 and 28
 * (GB/T 26875.3-2011 8.2.1.8 .. 8.2.1.12).
 */

/** Type 21, 7 bytes: state flags, time. */
export interface DeviceStateObject {
  type: 21;
  status: number;
  flags: DeviceStateFlag[];
  time: Gb26875Time;
}

/** Type 24, 8 bytes: operation flags (bit 5 = post-check reply), operator number, time. */
export interface DeviceOperationObject {
  type: 24;
  operation: number;
  operations: DeviceOperation[];
  operator: number;
  time: Gb26875Time;
}

/** Type 25, 2 bytes: software major, minor. */
export interface DeviceVersionObject {
  type: 25;
  major: number;
  minor: number;
}

/** Type 28, 6 bytes: the device's clock. */
export interface DeviceTimeObject {
  type: 28;
  time: Gb26875Time;
}

export const deviceStateCodec: ObjectCodec<DeviceStateObject> = {
  size: 7,
  decode(buf, o) {
    const status = buf[o] ?? 0;
    return { type: 21, status, flags: setFlags(status, DEVICE_STATE_BITS), time: readTime(buf, o + 1) };
  },
  encode(obj) {
    const b = Buffer.alloc(7);
    b[0] = obj.status;
    writeTime(obj.time, b, 1);
    return b;
  },
};

export const deviceOperationCodec: ObjectCodec<DeviceOperationObject> = {
  size: 8,
  decode(buf, o) {
    const operation = buf[o] ?? 0;
    return {
      type: 24,
      operation,
      operations: setFlags(operation, DEVICE_OPERATION_BITS),
      operator: buf[o + 1] ?? 0,
      time: readTime(buf, o + 2),
    };
  },
  encode(obj) {
    const b = Buffer.alloc(8);
    b[0] = obj.operation;
    b[1] = obj.operator;
    writeTime(obj.time, b, 2);
    return b;
  },
};

export const deviceVersionCodec: ObjectCodec<DeviceVersionObject> = {
  size: 2,
  decode: (buf, o) => ({ type: 25, major: buf[o] ?? 0, minor: buf[o + 1] ?? 0 }),
  encode: (obj) => Buffer.from([obj.major, obj.minor]),
};

export const deviceTimeCodec: ObjectCodec<DeviceTimeObject> = {
  size: 6,
  decode: (buf, o) => ({ type: 28, time: readTime(buf, o) }),
  encode(obj) {
    const b = Buffer.alloc(6);
    writeTime(obj.time, b, 0);
    return b;
  },
};
