/**
 * CPU time of processes from /proc (Linux): utime + stime of `/proc/<pid>/stat`
 * in clock ticks, converted to milliseconds, and the machine's busy share from
 * `/proc/stat`. Used by the recording benchmark to compare the gateway's own
 * CPU with the CPU of its ffmpeg children over the same interval.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 when that fails). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of a process in ms, or undefined when it is gone. */
export function procCpuMs(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: fields are counted after its ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / clockTicks();
}

/** Resident set size of a process in bytes (VmRSS), or undefined. */
export function procRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU ms of each pid; a pid that is gone is left out. */
export function snapshot(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const v = procCpuMs(pid);
    if (v !== undefined) out.set(pid, v);
  }
  return out;
}

/** Sum of the CPU ms used between two snapshots by the pids present in both; `missing` counts the others. */
export function usedBetween(a: Map<number, number>, b: Map<number, number>): { ms: number; missing: number } {
  let ms = 0;
  let missing = 0;
  for (const [pid, t0] of a) {
    const t1 = b.get(pid);
    if (t1 === undefined) missing++;
    else ms += t1 - t0;
  }
  return { ms, missing };
}

export interface MachineTimes {
  busy: number;
  total: number;
}

/** Aggregate jiffies of the machine (`cpu` line of /proc/stat). */
export function machineTimes(): MachineTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((s, x) => s + x, 0);
  return { busy: total - idle, total };
}

/** Share of the machine's CPU that was busy between two readings (0..1). */
export function busyShare(a: MachineTimes, b: MachineTimes): number {
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : 0;
}
