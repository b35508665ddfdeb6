/**
 * Bit assignments of the status and operation words, GB/T 26875.3-2011
 * clause 8.2.1 (bit 0 is the least significant bit; 2-byte words are
 * little-endian on the wire).
 *
 * Reading notes where public sources disagree:
 * - Bit 0 of the system, part and device state words is "1 = normal
 *   operation, 0 = test state". Several field devices leave it 0 all the
 *   time, so events only carry `test: true` when the receiver is told to
 *   honour it (see `honourTestBit`): a real fire must never be downgraded.
 * - Part state (8.2.1.2) bit 8 is "power fault" (电源故障); one vendor's
 *   parser reads bit 11 instead. We follow the table: bit 8.
 * - System state (8.2.1.1) bit 13 is "reset" (复位); some tables stop at
 *   bit 12 (configuration change). We decode bit 13 as reset.
 * - Operation words: the building-facility table (8.2.1.4) has bit 5 =
 *   confirm (确认); the transmission device's own table (8.2.1.9) has bit 5
 *   = post-check reply (查岗应答). Both use bits 0..4 and 6 alike.
 */

export const SYSTEM_STATE_BITS = [
  'normal',
  'fire',
  'fault',
  'shield',
  'supervise',
  'start',
  'feedback',
  'delay',
  'main_power_fault',
  'backup_power_fault',
  'bus_fault',
  'manual',
  'config_change',
  'reset',
] as const;
export type SystemStateFlag = (typeof SYSTEM_STATE_BITS)[number];

export const PART_STATE_BITS = [
  'normal',
  'fire',
  'fault',
  'shield',
  'supervise',
  'start',
  'feedback',
  'delay',
  'power_fault',
] as const;
export type PartStateFlag = (typeof PART_STATE_BITS)[number];

export const FACILITY_OPERATION_BITS = [
  'reset',
  'silence',
  'manual_alarm',
  'alarm_cleared',
  'self_check',
  'confirm',
  'test',
] as const;
export type FacilityOperation = (typeof FACILITY_OPERATION_BITS)[number];

export const DEVICE_STATE_BITS = [
  'normal',
  'fire',
  'fault',
  'main_power_fault',
  'backup_power_fault',
  'link_fault',
  'monitor_line_fault',
] as const;
export type DeviceStateFlag = (typeof DEVICE_STATE_BITS)[number];

export const DEVICE_OPERATION_BITS = [
  'reset',
  'silence',
  'manual_alarm',
  'alarm_cleared',
  'self_check',
  'post_check_reply',
  'test',
] as const;
export type DeviceOperation = (typeof DEVICE_OPERATION_BITS)[number];

/** Names of the set bits of `word` per `table` (bits beyond the table are ignored). */
export function setFlags<T extends string>(word: number, table: readonly T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < table.length; i++) if ((word >> i) & 1) out.push(table[i] as T);
  return out;
}

/** The word with the named bits set. */
export function toWord<T extends string>(flags: readonly T[], table: readonly T[]): number {
  let w = 0;
  for (const f of flags) {
    const i = table.indexOf(f);
    if (i >= 0) w |= 1 << i;
  }
  return w;
}

/** System types (系统类型, 8.2.1.1 table 4), for readable text only. */
export const SYSTEM_TYPES: Readonly<Record<number, string>> = {
  0: '通用',
  1: '火灾报警系统',
  10: '消防联动控制器',
  11: '消火栓系统',
  12: '自动喷水灭火系统',
  13: '气体灭火系统',
  18: '防烟排烟系统',
  19: '防火门及卷帘系统',
  20: '消防电梯',
  21: '消防应急广播',
  22: '消防应急照明和疏散指示系统',
  23: '消防电源',
  24: '消防电话',
};

/** A few part types (部件类型, 8.2.1.2 table 6), for readable text only. */
export const PART_TYPES: Readonly<Record<number, string>> = {
  0: '通用',
  1: '火灾报警控制器',
  21: '探测回路',
  22: '火灾显示盘',
  23: '手动火灾报警按钮',
  24: '消火栓按钮',
  25: '火灾探测器',
  30: '感温火灾探测器',
  40: '感烟火灾探测器',
  41: '点型离子感烟火灾探测器',
  42: '点型光电感烟火灾探测器',
  84: '模块',
  85: '输入模块',
  86: '输出模块',
  91: '消防水泵',
  102: '防火门',
  121: '警报装置',
};
