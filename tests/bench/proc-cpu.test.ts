import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  busyShare,
  machineTimes,
  procCpuMs,
  procRssBytes,
  snapshot,
  usedBetween,
} from '../../bench/proc-cpu.js';
import { publisherArgs } from '../../bench/recording-sources-client.js';

describe.skipIf(process.platform !== 'linux')('CPU time from /proc', () => {
  it("reads a busy child's CPU time growing, and leaves out a process that is gone", async () => {
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end);']);
    const pid = child.pid!;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const m0 = machineTimes();
    const a = snapshot([pid]);
    await new Promise((r) => setTimeout(r, 1000));
    const b = snapshot([pid]);
    const m1 = machineTimes();
    expect(a.has(pid)).toBe(true);
    const used = usedBetween(a, b);
    expect(used.missing).toBe(0);
    expect(used.ms).toBeGreaterThan(0);
    expect(procRssBytes(pid)).toBeGreaterThan(1024 * 1024);
    const share = busyShare(m0, m1);
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThanOrEqual(1);
    await exited;
    expect(procCpuMs(pid)).toBeUndefined();
    expect(usedBetween(a, snapshot([pid]))).toEqual({ ms: 0, missing: 1 });
  });
});

describe('recording sources', () => {
  it('reads the clip once in real time and copies it to every path over RTSP/TCP', () => {
    const args = publisherArgs('/c.mp4', ['rtsp://127.0.0.1:1/a', 'rtsp://127.0.0.1:1/b']);
    expect(args.slice(args.indexOf('-re'), args.indexOf('-i') + 2)).toEqual([
      '-re',
      '-stream_loop',
      '-1',
      '-i',
      '/c.mp4',
    ]);
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    const out = ['-map', '0:v:0', '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp'];
    expect(args.slice(-18)).toEqual([...out, 'rtsp://127.0.0.1:1/a', ...out, 'rtsp://127.0.0.1:1/b']);
  });
});
