/** Live test sources for the recorder tests: a second ffmpeg publishing MPEG-TS to 127.0.0.1. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function ffmpegAvailable(): boolean {
  return spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
}

/**
 * A free loopback UDP port for a child to use, picked below the ephemeral range
 * (see freePort in lib/testkit/procs.ts: a released port-0 port can be taken by
 * another socket before the child binds it).
 */
export async function freeUdpPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const s = createSocket('udp4');
    const ok = await new Promise<boolean>((res) => {
      s.once('error', () => res(false));
      s.bind(port, '127.0.0.1', () => res(true));
    });
    await new Promise<void>((r) => {
      try {
        s.close(() => r());
      } catch {
        r(); // never bound
      }
    });
    if (ok) return port;
  }
  throw new Error('no free UDP port between 20000 and 32000 after 200 tries');
}

export interface Source {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Publishes a 320x240 15 fps H.264 test pattern (GOP 0.5 s) as MPEG-TS to udp://127.0.0.1:port in real time. */
export function startUdpSource(port: number): Source {
  const child = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=15',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-g',
      '8',
      '-f',
      'mpegts',
      `udp://127.0.0.1:${port}?pkt_size=1316`,
    ],
    { stdio: 'ignore' },
  );
  live.add(child);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      live.delete(child);
    },
  };
}

/** ffprobe duration (s) and packet count of the first video stream, or undefined when unreadable. */
export function probe(path: string): { duration: number; packets: number } | undefined {
  const r = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_packets',
      '-select_streams',
      'v:0',
      '-show_entries',
      'format=duration:stream=nb_read_packets',
      '-of',
      'json',
      path,
    ],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (r.status !== 0) return undefined;
  const j = JSON.parse(r.stdout) as {
    format?: { duration?: string };
    streams?: Array<{ nb_read_packets?: string }>;
  };
  const duration = Number(j.format?.duration);
  const packets = Number(j.streams?.[0]?.nb_read_packets);
  return Number.isFinite(duration) && packets > 0 ? { duration, packets } : undefined;
}

export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of the running (non-zombie) ffmpeg processes with an argument containing `needle`. */
export function ffmpegProcessesWith(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('ffmpeg') && cmd.some((a) => a.includes(needle)) && running(pid)) out.push(pid);
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Exists in /proc and is not a zombie (an orphan's zombie may wait for a PID 1 that does not reap). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
