/**
 * Camera sources for the recording benchmark, run as a separate process so
 * that their CPU is not the gateway's: the simulator's RTSP relay
 * (simulators/rtsp) on a loopback port and ONE ffmpeg that reads a
 * pre-encoded H.264 clip in real time (`-re -stream_loop -1`) and publishes
 * it, stream-copied, to `count` RTSP paths (`/{prefix}{i}`). Nothing is
 * encoded while the benchmark runs.
 *
 *   node dist/bench/recording-sources.js <clip> <count> <prefix>
 *
 * Prints one line `READY {"port":…,"ffmpegPid":…}` when every path has a
 * publisher; stops (ffmpeg with it) when stdin closes or on SIGTERM.
 */
import { ffmpegPath } from '../gateway/recorder/ffmpeg-args.js';
import { errorMessage } from '../lib/errors.js';
import { spawnTracked, stopChild } from '../simulators/onvif/ffmpeg.js';
import { RtspServer } from '../simulators/rtsp/server.js';
import { publisherArgs } from './recording-sources-client.js';

async function main(): Promise<void> {
  const [clip, countText, prefix] = process.argv.slice(2);
  const count = Number(countText);
  if (!clip || !prefix || !Number.isInteger(count) || count < 1) {
    throw new Error('usage: recording-sources <clip> <count> <prefix>');
  }
  const server = new RtspServer({ host: '127.0.0.1', port: 0, udp: false, maxReaderBufferBytes: 4 << 20 });
  await server.start();
  const paths = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  const child = spawnTracked(
    ffmpegPath(),
    publisherArgs(
      clip,
      paths.map((p) => server.url(p)),
    ),
    'ignore',
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await stopChild(child, 1000);
    await server.stop();
    process.exit(code);
  };
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`publisher exited (${code}): ${stderr.trim()}`);
      void stop(1);
    }
  });
  process.on('SIGTERM', () => void stop(0));
  process.stdin.on('end', () => void stop(0));
  process.stdin.resume();
  await Promise.all(paths.map((p) => server.waitForPublisher(p, 30_000)));
  console.log(`READY ${JSON.stringify({ port: server.port, ffmpegPid: child.pid })}`);
}

main().catch((err) => {
  console.error(errorMessage(err));
  process.exit(1);
});
