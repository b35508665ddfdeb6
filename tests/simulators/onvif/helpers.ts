/** Shared helpers of the camera simulator tests: the real `onvif` client, promisified, and ffprobe. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cam } from 'onvif';

const run = promisify(execFile);

/** A parsed xml2js/linerase tree from the onvif client (untyped by nature). */
// biome-ignore lint/suspicious/noExplicitAny: the onvif client's parsed SOAP trees have no types
export type Xml = any;

export interface ConnectOptions {
  hostname: string;
  port: number;
  username?: string;
  password?: string;
}

/** Connects the agsh `onvif` Cam client; rejects on the connect callback's error. */
export function connectCam(opts: ConnectOptions, timeoutMs = 8000): Promise<Cam> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('onvif connect timed out')), timeoutMs);
    const cam: Cam = new Cam({ ...opts, timeout: timeoutMs }, (err: Error | null) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(cam);
    });
  });
}

/** Calls a callback-style Cam method and resolves with its data. */
export function call<T = Xml>(cam: Cam, method: string, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (cam as unknown as Record<string, (...a: unknown[]) => void>)[method];
    if (typeof fn !== 'function') {
      reject(new Error(`no Cam.${method}`));
      return;
    }
    fn.call(cam, ...args, (err: Error | null, data: T) => (err ? reject(err) : resolve(data)));
  });
}

export interface ProbedStream {
  codec_name: string;
  codec_type: string;
  width?: number;
  height?: number;
}

export async function ffprobe(
  input: string,
  extra: string[] = [],
  timeoutMs = 10_000,
): Promise<{ streams: ProbedStream[]; format?: { duration?: string } }> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', ...extra, '-show_streams', '-show_format', '-of', 'json', input],
    { timeout: timeoutMs, killSignal: 'SIGKILL' },
  );
  return JSON.parse(stdout);
}

/** Records `seconds` of an RTSP stream with `-c copy`. */
export async function record(url: string, file: string, seconds: number, transport = 'tcp'): Promise<void> {
  await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-rtsp_transport',
      transport,
      '-i',
      url,
      '-t',
      String(seconds),
      '-c',
      'copy',
      '-y',
      file,
    ],
    { timeout: (seconds + 10) * 1000, killSignal: 'SIGKILL' },
  );
}
