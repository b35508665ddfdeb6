import type { ObjectCodec } from './codec.js';
import { type Gb26875Time, readTime, writeTime } from './time.js';

/**
 * Control objects, centre → device, sent with command 1 (control)
 * (GB/T 26875.3-2011 6.2 and 8.2.3): 89 initialise the device, 90
 * synchronise its clock, 91 post check (查岗). The device confirms the
 * command (command 3); the operator's answer to a post check arrives later
 * as an upload of type 24 with operation bit 5 (查岗应答) set.
 */

/** Type 89, 1 reserved byte. */
export interface InitDeviceObject {
  type: 89;
  reserved: number;
}

/** Type 90, 6 bytes: the centre's clock. */
export interface SyncTimeObject {
  type: 90;
  time: Gb26875Time;
}

/** Type 91, 1 byte: how long the operator has to answer, in minutes (查岗应答超时时间). */
export interface PostCheckObject {
  type: 91;
  timeoutMin: number;
}

export const initDeviceCodec: ObjectCodec<InitDeviceObject> = {
  size: 1,
  decode: (buf, o) => ({ type: 89, reserved: buf[o] ?? 0 }),
  encode: (obj) => Buffer.from([obj.reserved & 0xff]),
};

export const syncTimeCodec: ObjectCodec<SyncTimeObject> = {
  size: 6,
  decode: (buf, o) => ({ type: 90, time: readTime(buf, o) }),
  encode(obj) {
    const b = Buffer.alloc(6);
    writeTime(obj.time, b, 0);
    return b;
  },
};

export const postCheckCodec: ObjectCodec<PostCheckObject> = {
  size: 1,
  decode: (buf, o) => ({ type: 91, timeoutMin: buf[o] ?? 0 }),
  encode: (obj) => Buffer.from([Math.max(0, Math.min(255, Math.round(obj.timeoutMin)))]),
};

/** Minutes to put in a post-check command for a timeout in seconds (1..255, rounded up). */
export function postCheckMinutes(timeoutS: number): number {
  return Math.max(1, Math.min(255, Math.ceil(timeoutS / 60)));
}
