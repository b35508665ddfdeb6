/**
 * Typed argument builder for the recording ffmpeg process (no fluent-ffmpeg:
 * archived in 2025). The argv it builds:
 *
 *   ffmpeg -hide_banner -nostdin -loglevel warning
 *          [-rtsp_transport tcp|udp] [-timeout µs | -stimeout µs]   (rtsp)
 *          [-f FORMAT] [-analyzeduration µs] -i INPUT
 *          -map 0:v:0 [-map 0:a:0?] -c copy
 *          -f segment -segment_time N -reset_timestamps 1
 *          -segment_format mp4
 *          -segment_format_options movflags=+frag_keyframe+empty_moov+default_base_moof:flush_packets=1[:frag_duration=µs]
 *          -segment_list LIST.csv -segment_list_type csv
 *          DIR/{cameraId}_{runStart}_%06d.mp4
 *
 * A URL with credentials is not put on the argv (anyone on the machine can
 * read it in /proc): the input becomes `-f concat -safe 0 -protocol_whitelist
 * … -i run-{runStart}.ffconcat`, a file of mode 0600 holding the URL and the
 * input options (`inputScript`), and everything ffmpeg prints is passed
 * through `redactCredentials` before it is kept, logged or reported.
 *
 * Fragmented MP4 with `flush_packets=1` keeps what was written playable when
 * ffmpeg is killed mid-segment (a plain MP4 needs its trailer). The CSV
 * segment list is flushed by ffmpeg once per closed segment: the recorder
 * tails it to learn closed segments with their media start/end times. Files
 * are named per run (camera id + run start + sequence number) rather than with
 * `-strftime`, whose one-second resolution can make two short segments
 * collide; the recorder renames each closed segment to its final name carrying
 * the camera id and the segment's own start time (see `segmentFileName`).
 */
import { join } from 'node:path';
import { CarewatchError } from '../../lib/errors.js';
import { isValidId } from '../../protocol/ids.js';

export type RtspTransport = 'tcp' | 'udp';

export interface RecordArgsOptions {
  cameraId: string;
  /** rtsp://… from the camera adapter, or anything ffmpeg reads live (udp://, tcp://, srt://). */
  inputUrl: string;
  /** Directory where ffmpeg writes segments while they are open. */
  outputDir: string;
  /** Run identifier put in the per-run file names (the recorder uses the run start in ms). */
  runId: string;
  /** Path of the CSV segment list ffmpeg appends a line to per closed segment. */
  segmentListPath: string;
  /** Segment length in seconds (cut at the first keyframe after each boundary). */
  segmentSeconds: number;
  /** RTSP only: transport of the media streams; TCP by default. */
  transport?: RtspTransport;
  /** Record the first audio stream when the camera has one (`-map 0:a:0?`). */
  audio?: boolean;
  /** A dead camera makes ffmpeg exit after this many seconds without data (default 10). */
  ioTimeoutS?: number;
  /** Forced input format (e.g. `mpegts` for a udp:// test source). */
  inputFormat?: string;
  /** Caps stream probing at start (ms); useful for raw transport streams. */
  analyzeDurationMs?: number;
  /** Also cut a fragment after this many ms (bounds what a SIGKILL can lose with a long GOP). */
  fragmentMs?: number;
  /** Major version of the ffmpeg binary: RTSP's socket timeout is `-stimeout` before 5. */
  ffmpegMajor?: number;
  /** ffmpeg log level (default `warning`). */
  logLevel?: 'error' | 'warning' | 'info';
  /**
   * Where the input script goes when the URL carries credentials (see
   * `inputScript`): the argv then names this file instead of the URL.
   */
  inputScriptPath?: string;
}

/** `scheme://user:password@` in a URL or in any text ffmpeg prints about it. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s/@:'"]*)(?::[^\s/@]*)?@/gi;

/** Whether the URL names a user (and so, usually, a password). */
export function hasCredentials(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url);
}

/** The text with every URL password replaced by `***` (ffmpeg's errors repeat the input URL). */
export function redactCredentials(text: string): string {
  return text.replace(USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}

/** One ffconcat token: single-quoted, a quote inside written as '\'' (ffmpeg's own quoting). */
function quoted(v: string): string {
  return `'${v.replaceAll("'", "'\\''")}'`;
}

/**
 * The input of a run whose URL carries credentials, as an ffconcat script
 * that ffmpeg reads with `-f concat`: the URL with its password stays in a
 * file only the gateway's user can read, not in the argv that every user of
 * the machine can read in /proc. The input options (`-rtsp_transport`,
 * `-timeout`) become the script's `option` lines. Null when the URL has no
 * credentials (the argv names it directly).
 */
export function inputScript(o: RecordArgsOptions): string | null {
  if (!hasCredentials(o.inputUrl) || o.inputFormat) return null;
  if (/[\r\n\0]/.test(o.inputUrl)) fail(`camera ${o.cameraId}: the input URL holds a line break`, {});
  return ffconcatScript(o.inputUrl, inputOptions(o).opts);
}

/** An ffconcat script naming one input with its demuxer options. */
export function ffconcatScript(url: string, opts: Array<[string, string]>): string {
  if (/[\r\n\0]/.test(url)) fail('the input URL holds a line break', {});
  const lines = ['ffconcat version 1.0', `file ${quoted(url)}`];
  for (const [k, v] of opts) lines.push(`option ${k} ${quoted(v)}`);
  return `${lines.join('\n')}\n`;
}

/** The argv naming an ffconcat script as the input (before `-i`); ffmpeg may open only these protocols. */
export const SCRIPT_INPUT = [
  '-f',
  'concat',
  '-safe',
  '0',
  '-protocol_whitelist',
  'file,rtsp,rtsps,tcp,udp,rtp,tls,http,https',
];

/** The protocol-level input options of a run, and the input as the argv would name it. */
function inputOptions(o: RecordArgsOptions): { opts: Array<[string, string]>; input: string } {
  const timeoutS = o.ioTimeoutS ?? 10;
  if (!Number.isFinite(timeoutS) || timeoutS <= 0)
    fail('ioTimeoutS must be positive', { ioTimeoutS: timeoutS });
  const micros = Math.round(timeoutS * 1_000_000);
  const proto = protocolOf(o.inputUrl);
  const opts: Array<[string, string]> = [];
  let input = o.inputUrl;
  if (proto === 'rtsp' || proto === 'rtsps') {
    opts.push(['rtsp_transport', o.transport ?? 'tcp']);
    // ffmpeg 5 renamed `-stimeout` to `-timeout`; before 5, `-timeout` meant "listen".
    opts.push([(o.ffmpegMajor ?? 5) >= 5 ? 'timeout' : 'stimeout', String(micros)]);
  } else if (proto === 'udp' || proto === 'tcp') {
    input = withUrlTimeout(o.inputUrl, micros);
  } else if (proto !== 'file') {
    opts.push(['rw_timeout', String(micros)]);
  }
  return { opts, input };
}

export const MOVFLAGS = 'movflags=+frag_keyframe+empty_moov+default_base_moof';

function fail(message: string, details: Record<string, unknown>): never {
  throw new CarewatchError('RECORDER_ARGS_INVALID', message, details);
}

function protocolOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m ? m[1]!.toLowerCase() : 'file';
}

/** Appends `timeout=µs` to a udp:// or tcp:// URL unless it already sets one. */
function withUrlTimeout(url: string, micros: number): string {
  if (/[?&]timeout=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}timeout=${micros}`;
}

/** The argv (without the program name) of one recording run. */
export function buildRecordArgs(o: RecordArgsOptions): string[] {
  if (!isValidId(o.cameraId))
    fail(`invalid camera id ${JSON.stringify(o.cameraId)}`, { cameraId: o.cameraId });
  if (!o.inputUrl) fail(`camera ${o.cameraId}: empty input URL`, { cameraId: o.cameraId });
  if (!/^[A-Za-z0-9_.-]+$/.test(o.runId))
    fail(`invalid run id ${JSON.stringify(o.runId)}`, { runId: o.runId });
  if (!Number.isFinite(o.segmentSeconds) || o.segmentSeconds <= 0 || o.segmentSeconds > 3600) {
    fail(`camera ${o.cameraId}: segment length must be in (0, 3600] s`, { segmentSeconds: o.segmentSeconds });
  }
  const { opts, input } = inputOptions(o);
  const args = ['-hide_banner', '-nostdin', '-loglevel', o.logLevel ?? 'warning'];
  const script = inputScript(o) !== null;
  if (script && !o.inputScriptPath)
    fail(`camera ${o.cameraId}: an input URL with credentials needs inputScriptPath`, {
      cameraId: o.cameraId,
    });
  if (script) {
    // the URL and its options are in the script (see inputScript); ffmpeg may open only these protocols
    args.push(...SCRIPT_INPUT);
  } else {
    for (const [k, v] of opts) args.push(`-${k}`, v);
    if (o.inputFormat) args.push('-f', o.inputFormat);
  }
  if (o.analyzeDurationMs !== undefined)
    args.push('-analyzeduration', String(Math.round(o.analyzeDurationMs * 1000)));
  args.push('-i', script ? o.inputScriptPath! : input);

  args.push('-map', '0:v:0');
  if (o.audio) args.push('-map', '0:a:0?');
  args.push('-c', 'copy');

  let fmtOpts = `${MOVFLAGS}:flush_packets=1`;
  if (o.fragmentMs !== undefined) fmtOpts += `:frag_duration=${Math.round(o.fragmentMs * 1000)}`;
  args.push(
    '-f',
    'segment',
    '-segment_time',
    String(o.segmentSeconds),
    '-reset_timestamps',
    '1',
    '-segment_format',
    'mp4',
    '-segment_format_options',
    fmtOpts,
    '-segment_list',
    o.segmentListPath,
    '-segment_list_type',
    'csv',
    join(o.outputDir, `${o.cameraId}_${o.runId}_%06d.mp4`),
  );
  return args;
}

/** The system ffmpeg; `CAREWATCH_FFMPEG` overrides it. */
export function ffmpegPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CAREWATCH_FFMPEG || 'ffmpeg';
}

/** ffprobe next to the chosen ffmpeg; `CAREWATCH_FFPROBE` overrides it. */
export function ffprobePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CAREWATCH_FFPROBE) return env.CAREWATCH_FFPROBE;
  const ff = ffmpegPath(env);
  return ff.endsWith('ffmpeg') ? `${ff.slice(0, -'ffmpeg'.length)}ffprobe` : 'ffprobe';
}

/** `20260101T000000.123Z` */
export function compactTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

export function parseCompactTime(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, ms] = m.map(Number) as number[];
  const t = Date.UTC(y!, mo! - 1, d!, h!, mi!, se!, ms!);
  return Number.isFinite(t) ? t : undefined;
}

/** Final name of a closed segment: `{cameraId}_{start}.mp4`, e.g. `cam-1_20260101T000000.123Z.mp4`. */
export function segmentFileName(cameraId: string, startMs: number, suffix = 0): string {
  return `${cameraId}_${compactTime(startMs)}${suffix ? `-${suffix}` : ''}.mp4`;
}

/** Camera id and start time from a final segment name, or undefined for any other name. */
export function parseSegmentFileName(name: string): { cameraId: string; startMs: number } | undefined {
  const m = /^(.+)_(\d{8}T\d{6}\.\d{3}Z)(?:-\d+)?\.mp4$/.exec(name);
  if (!m) return undefined;
  const startMs = parseCompactTime(m[2]!);
  return startMs === undefined ? undefined : { cameraId: m[1]!, startMs };
}

/** Day directory (UTC) a segment is filed under: `YYYY-MM-DD`. */
export function dayDir(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Arguments of ffprobe reading a file's duration and first video stream. */
export function buildProbeArgs(path: string): string[] {
  return [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'format=duration,size:stream=codec_name',
    '-of',
    'json',
    path,
  ];
}
