/**
 * Starts and stops the camera sources process (recording-sources.ts) for the
 * recording benchmark, and builds its publisher's arguments.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** argv of the one publisher: the clip in real time, copied to every path. */
export function publisherArgs(clip: string, urls: string[]): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip];
  for (const url of urls)
    args.push('-map', '0:v:0', '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp', url);
  return args;
}

export interface Sources {
  proc: ChildProcess;
  port: number;
  ffmpegPid: number;
}

export async function startSources(clip: string, count: number, prefix: string): Promise<Sources> {
  const script = fileURLToPath(new URL('./recording-sources.js', import.meta.url));
  const proc = spawn(process.execPath, [script, clip, String(count), prefix], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CAREWATCH_LOG_LEVEL: process.env.CAREWATCH_LOG_LEVEL ?? 'warn' },
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const lines = createInterface({ input: proc.stdout! });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`sources (${count}) not ready in 40 s: ${stderr}`));
    }, 40_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sources exited (${code}): ${stderr}`));
    });
    lines.on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      const info = JSON.parse(line.slice(6)) as { port: number; ffmpegPid: number };
      resolve({ proc, ...info });
    });
  });
}

export async function stopSources(s: Sources): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => s.proc.once('exit', () => r()));
  s.proc.kill('SIGTERM');
  const t = setTimeout(() => s.proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}
