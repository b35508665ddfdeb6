/** ffprobe of one segment file: duration and video codec, bounded in time. */
import { spawn } from 'node:child_process';
import { buildProbeArgs } from './ffmpeg-args.js';

export interface ProbeResult {
  durationMs: number;
  bytes: number;
  videoCodec: string | undefined;
}

/** Probe function, injectable in tests. Resolves undefined when the file is not readable media. */
export type Prober = (path: string) => Promise<ProbeResult | undefined>;

export function ffprobeProber(ffprobe: string, timeoutMs = 10_000): Prober {
  return (path) =>
    new Promise((resolve) => {
      let out = '';
      let done = false;
      const finish = (r: ProbeResult | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(r);
      };
      const child = spawn(ffprobe, buildProbeArgs(path), { stdio: ['ignore', 'pipe', 'ignore'] });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(undefined);
      }, timeoutMs);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('error', () => finish(undefined));
      child.on('close', (code) => {
        if (code !== 0) return finish(undefined);
        try {
          const j = JSON.parse(out) as {
            format?: { duration?: string; size?: string };
            streams?: Array<{ codec_name?: string }>;
          };
          const duration = Number(j.format?.duration);
          if (!Number.isFinite(duration) || duration <= 0) return finish(undefined);
          finish({
            durationMs: Math.round(duration * 1000),
            bytes: Number(j.format?.size ?? 0),
            videoCodec: j.streams?.[0]?.codec_name,
          });
        } catch {
          finish(undefined);
        }
      });
    });
}
