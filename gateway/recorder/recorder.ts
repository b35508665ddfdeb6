/**
 * The recorder manager: one `CameraRecorder` per configured camera, all
 * reporting through one `onEvent` callback. Also the actuator the retention
 * sweeper's degradation uses (pause/resume a camera, switch to substream).
 */
import type { Clock } from '../../lib/clock.js';
import { ConfigError } from '../../lib/errors.js';
import { isValidId } from '../../protocol/ids.js';
import {
  type BackoffOptions,
  CameraRecorder,
  type CameraRecorderStatus,
  type CameraRecordingConfig,
} from './camera-recorder.js';
import type { RecorderEventHandler } from './events.js';
import type { Prober } from './probe.js';
import type { SegmentIndex } from './segment-index.js';

export interface RecorderOptions {
  rootDir: string;
  cameras: CameraRecordingConfig[];
  index: SegmentIndex;
  onEvent: RecorderEventHandler;
  clock?: Clock;
  ffmpeg?: string;
  ffmpegMajor?: number;
  probe?: Prober;
  backoff?: Partial<BackoffOptions>;
  offlineAfterFailures?: number;
  stopTimeoutMs?: number;
  ioTimeoutS?: number;
}

/** What the retention sweeper may do to recording when the disk runs short. */
export interface RecordingControl {
  pauseCamera(cameraId: string): Promise<void>;
  resumeCamera(cameraId: string): Promise<void>;
  /** false when the camera has no substream. */
  useSubstream(cameraId: string, on: boolean): Promise<boolean>;
}

export class Recorder implements RecordingControl {
  private readonly cams = new Map<string, CameraRecorder>();

  constructor(private readonly o: RecorderOptions) {}

  /** Validates the camera list and starts every camera recorder. */
  async start(): Promise<void> {
    if (this.cams.size) return;
    const seen = new Set<string>();
    for (const cam of this.o.cameras) {
      if (!isValidId(cam.cameraId)) {
        throw new ConfigError(`recorder: invalid camera id ${JSON.stringify(cam.cameraId)}`);
      }
      if (seen.has(cam.cameraId)) throw new ConfigError(`recorder: camera ${cam.cameraId} configured twice`);
      if (!cam.inputUrl) throw new ConfigError(`recorder: camera ${cam.cameraId} has no input URL`);
      seen.add(cam.cameraId);
    }
    const { cameras, ...common } = this.o;
    for (const cam of cameras) this.cams.set(cam.cameraId, new CameraRecorder({ ...common, camera: cam }));
    await Promise.all([...this.cams.values()].map((c) => c.start()));
  }

  /** Graceful stop of every camera (SIGINT, SIGKILL after the grace period). */
  async stop(): Promise<void> {
    await Promise.all([...this.cams.values()].map((c) => c.stop()));
    this.cams.clear();
  }

  camera(cameraId: string): CameraRecorder | undefined {
    return this.cams.get(cameraId);
  }

  status(): CameraRecorderStatus[] {
    return [...this.cams.values()].map((c) => c.status());
  }

  async pauseCamera(cameraId: string): Promise<void> {
    await this.cams.get(cameraId)?.stop();
  }

  async resumeCamera(cameraId: string): Promise<void> {
    await this.cams.get(cameraId)?.start();
  }

  async useSubstream(cameraId: string, on: boolean): Promise<boolean> {
    return (await this.cams.get(cameraId)?.useSubstream(on)) ?? false;
  }
}
