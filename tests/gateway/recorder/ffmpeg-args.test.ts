import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildRecordArgs,
  dayDir,
  ffmpegPath,
  ffprobePath,
  inputScript,
  parseSegmentFileName,
  type RecordArgsOptions,
  redactCredentials,
  segmentFileName,
} from '../../../gateway/recorder/ffmpeg-args.js';
import { parseListLine } from '../../../gateway/recorder/segment-list.js';

const base: RecordArgsOptions = {
  cameraId: 'cam-1',
  inputUrl: 'rtsp://10.0.0.5:554/Streaming/Channels/101',
  outputDir: '/rec/cam-1/incoming',
  runId: '1767225600000',
  segmentListPath: '/rec/cam-1/incoming/run-1767225600000.csv',
  segmentSeconds: 10,
};

/** Value following a flag, asserting the flag is present once. */
function opt(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  if (at < 0) return undefined;
  expect(args.indexOf(flag, at + 1)).toBe(-1);
  return args[at + 1];
}

describe('ffmpeg recording argv', () => {
  it('pulls RTSP over TCP with a socket timeout, stream-copies and writes fragmented MP4 segments', () => {
    const a = buildRecordArgs(base);
    expect(opt(a, '-rtsp_transport')).toBe('tcp');
    expect(opt(a, '-timeout')).toBe('10000000');
    expect(a.indexOf('-rtsp_transport')).toBeLessThan(a.indexOf('-i'));
    expect(opt(a, '-i')).toBe(base.inputUrl);
    expect(opt(a, '-c')).toBe('copy');
    expect(a).not.toContain('-c:v');
    expect(opt(a, '-map')).toBe('0:v:0');
    expect(opt(a, '-f')).toBe('segment');
    expect(opt(a, '-segment_time')).toBe('10');
    expect(opt(a, '-reset_timestamps')).toBe('1');
    expect(opt(a, '-segment_format')).toBe('mp4');
    const fmt = opt(a, '-segment_format_options')!;
    expect(fmt).toContain('movflags=+frag_keyframe+empty_moov+default_base_moof');
    expect(fmt).toContain('flush_packets=1');
    expect(opt(a, '-segment_list')).toBe(base.segmentListPath);
    expect(opt(a, '-segment_list_type')).toBe('csv');
    expect(a.at(-1)).toBe('/rec/cam-1/incoming/cam-1_1767225600000_%06d.mp4');
    expect(a).toContain('-nostdin');
  });

  it('uses UDP transport when asked, -stimeout for ffmpeg < 5, and maps audio optionally', () => {
    const a = buildRecordArgs({ ...base, transport: 'udp', ffmpegMajor: 4, audio: true, ioTimeoutS: 5 });
    expect(opt(a, '-rtsp_transport')).toBe('udp');
    expect(opt(a, '-stimeout')).toBe('5000000');
    expect(a).not.toContain('-timeout');
    const maps = a.flatMap((x, i) => (x === '-map' ? [a[i + 1]] : []));
    expect(maps).toEqual(['0:v:0', '0:a:0?']);
  });

  it('puts the timeout in udp:// and tcp:// URLs and forces the input format', () => {
    const u = buildRecordArgs({
      ...base,
      inputUrl: 'udp://127.0.0.1:5000',
      inputFormat: 'mpegts',
      ioTimeoutS: 2,
    });
    expect(opt(u, '-i')).toBe('udp://127.0.0.1:5000?timeout=2000000');
    expect(u.slice(u.indexOf('-i') - 2, u.indexOf('-i'))).toEqual(['-f', 'mpegts']);
    expect(u.lastIndexOf('-f')).toBeGreaterThan(u.indexOf('-i'));
    expect(u).not.toContain('-rtsp_transport');
    const t = buildRecordArgs({ ...base, inputUrl: 'tcp://127.0.0.1:5000?x=1' });
    expect(opt(t, '-i')).toBe('tcp://127.0.0.1:5000?x=1&timeout=10000000');
    const keep = buildRecordArgs({ ...base, inputUrl: 'tcp://h:1?timeout=7' });
    expect(opt(keep, '-i')).toBe('tcp://h:1?timeout=7');
    const h = buildRecordArgs({ ...base, inputUrl: 'http://cam/stream.ts' });
    expect(opt(h, '-rw_timeout')).toBe('10000000');
  });

  it('adds fragment duration and analyze duration when set', () => {
    const a = buildRecordArgs({ ...base, fragmentMs: 1000, analyzeDurationMs: 500 });
    expect(opt(a, '-segment_format_options')).toContain('frag_duration=1000000');
    expect(opt(a, '-analyzeduration')).toBe('500000');
  });

  it('refuses bad camera ids, run ids and segment lengths with a coded error', () => {
    expect(() => buildRecordArgs({ ...base, cameraId: '../etc' })).toThrow(/invalid camera id/);
    expect(() => buildRecordArgs({ ...base, runId: 'a/b' })).toThrow(/invalid run id/);
    for (const s of [0, -1, Number.NaN, 7200]) {
      try {
        buildRecordArgs({ ...base, segmentSeconds: s });
        expect.unreachable();
      } catch (err) {
        expect((err as { code: string }).code).toBe('RECORDER_ARGS_INVALID');
      }
    }
  });

  it('resolves ffmpeg and ffprobe, CAREWATCH_FFMPEG overriding', () => {
    expect(ffmpegPath({})).toBe('ffmpeg');
    expect(ffmpegPath({ CAREWATCH_FFMPEG: '/opt/ff/bin/ffmpeg' })).toBe('/opt/ff/bin/ffmpeg');
    expect(ffprobePath({ CAREWATCH_FFMPEG: '/opt/ff/bin/ffmpeg' })).toBe('/opt/ff/bin/ffprobe');
    expect(ffprobePath({ CAREWATCH_FFPROBE: '/x/probe' })).toBe('/x/probe');
  });

  it('names segments by camera and start time, and parses the names back', () => {
    const t = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const n = segmentFileName('cam_1.a', t);
    expect(n).toBe('cam_1.a_20260102T030405.678Z.mp4');
    expect(parseSegmentFileName(n)).toEqual({ cameraId: 'cam_1.a', startMs: t });
    expect(parseSegmentFileName(segmentFileName('c', t, 2))).toEqual({ cameraId: 'c', startMs: t });
    expect(parseSegmentFileName('cam-1_1767225600000_000001.mp4')).toBeUndefined();
    expect(dayDir(t)).toBe('2026-01-02');
  });

  it('parses segment-list lines', () => {
    expect(parseListLine('cam-1_1_000000.mp4,0.000000,1.866667')).toEqual({
      name: 'cam-1_1_000000.mp4',
      startS: 0,
      endS: 1.866667,
    });
    expect(parseListLine('"a,b.mp4",1,2')).toEqual({ name: 'a,b.mp4', startS: 1, endS: 2 });
    expect(parseListLine('../x.mp4,1,2')).toBeUndefined();
    expect(parseListLine('x.mp4,3,2')).toBeUndefined();
    expect(parseListLine('garbage')).toBeUndefined();
  });
});

describe('camera credentials stay off the command line and out of what ffmpeg prints', () => {
  const withPassword: RecordArgsOptions = {
    ...base,
    inputUrl: "rtsp://operator:s3cr%40t'x@10.0.0.5:554/Streaming/Channels/101",
    inputScriptPath: '/rec/cam-1/incoming/run-1767225600000.ffconcat',
  };

  it('names an input script instead of the URL, the input options inside it', () => {
    const args = buildRecordArgs(withPassword);
    expect(args.join(' ')).not.toContain('s3cr');
    expect(opt(args, '-i')).toBe(withPassword.inputScriptPath);
    expect(args[args.indexOf('-f') + 1]).toBe('concat'); // the input's format (the output's is segment)
    expect(opt(args, '-safe')).toBe('0');
    expect(opt(args, '-protocol_whitelist')).toContain('rtsp');
    expect(args).not.toContain('-rtsp_transport');
    expect(inputScript({ ...withPassword, transport: 'udp', ioTimeoutS: 5 })).toBe(
      [
        'ffconcat version 1.0',
        // a quote in the URL is closed, escaped and reopened, as ffmpeg's own tokenizer reads it
        "file 'rtsp://operator:s3cr%40t'\\''x@10.0.0.5:554/Streaming/Channels/101'",
        "option rtsp_transport 'udp'",
        "option timeout '5000000'",
        '',
      ].join('\n'),
    );
  });

  it('keeps a URL without credentials on the command line, and refuses one with credentials but no script path', () => {
    expect(inputScript(base)).toBeNull();
    expect(opt(buildRecordArgs(base), '-i')).toBe(base.inputUrl);
    expect(() => buildRecordArgs({ ...withPassword, inputScriptPath: undefined })).toThrow(/inputScriptPath/);
    expect(() => inputScript({ ...withPassword, inputUrl: 'rtsp://u:p@h/x\nfile /etc/passwd' })).toThrow(
      /line break/,
    );
  });

  it('redacts every URL password in text, whatever the password', () => {
    expect(
      redactCredentials("[concat] Impossible to open 'rtsp://admin:Secr3t@127.0.0.1:8554/cam1'\nnext line"),
    ).toBe("[concat] Impossible to open 'rtsp://admin:***@127.0.0.1:8554/cam1'\nnext line");
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/),
        fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=%-]{6,24}$/),
        fc.string({ maxLength: 30 }),
        (user, password, around) => {
          const url = `rtsp://${user}:${password}@10.0.0.5:554/ch1`;
          const out = redactCredentials(`${around} ${url}: 401 Unauthorized ${around}`);
          expect(out).toContain(`rtsp://${user}:***@10.0.0.5:554/ch1`);
          expect(out.replace(around, '').replace(around, '')).not.toContain(`:${password}@`);
        },
      ),
    );
  });
});
