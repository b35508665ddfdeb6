/** Runs ffmpeg once (a clip cut, a snapshot grab), bounded in time, keeping the tail of its stderr. */
import { spawn } from 'node:child_process';
import { CarewatchError } from '../../lib/errors.js';
import { redactCredentials } from '../recorder/ffmpeg-args.js';

export async function runFfmpeg(ffmpeg: string, args: string[], timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    let settled = false;
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(new CarewatchError('MEDIA_FFMPEG_TIMEOUT', `ffmpeg did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    child.stderr.on('data', (d: Buffer) => {
      // its errors repeat the input URL: a camera password goes no further than this
      stderr = redactCredentials(stderr + d.toString()).slice(-2000);
    });
    child.on('error', (err) =>
      done(new CarewatchError('MEDIA_FFMPEG_MISSING', `cannot run ffmpeg (${ffmpeg}): ${err.message}`)),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return done();
      const last = stderr.trim().split('\n').slice(-3).join(' | ');
      done(new CarewatchError('MEDIA_FFMPEG_FAILED', `ffmpeg exited with ${code ?? signal}: ${last}`));
    });
  });
}
