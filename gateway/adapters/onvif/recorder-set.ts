/**
 * The recorders of a site: one `Recorder` for the cameras with a fixed
 * `streamUrl` (started at once) and one per ONVIF camera, created when its
 * stream is first resolved. Together they are the `RecordingControl` the
 * retention sweeper degrades through, and the status the inventory reads.
 */
import type { CameraRecorderStatus, CameraRecordingConfig } from '../../recorder/camera-recorder.js';
import { Recorder, type RecorderOptions, type RecordingControl } from '../../recorder/recorder.js';

export class RecorderSet implements RecordingControl {
  private readonly fixed: Recorder;
  private readonly dynamic = new Map<string, { recorder: Recorder; config: CameraRecordingConfig }>();
  /** Cameras the retention sweeper paused: a new resolution does not resume them. */
  private readonly held = new Set<string>();
  private stopped = false;

  constructor(private readonly o: RecorderOptions) {
    this.fixed = new Recorder(o);
  }

  async start(): Promise<void> {
    this.stopped = false;
    if (this.o.cameras.length) await this.fixed.start();
  }

  /**
   * Records an ONVIF camera from `inputUrl`: starts its recorder the first
   * time; when the URL changed, restarts it on the new one; when it was
   * paused, resumes it.
   */
  async record(config: CameraRecordingConfig): Promise<void> {
    if (this.stopped) return;
    const have = this.dynamic.get(config.cameraId);
    if (!have) {
      const { cameras: _all, ...common } = this.o;
      const recorder = new Recorder({ ...common, cameras: [config] });
      this.dynamic.set(config.cameraId, { recorder, config });
      await recorder.start();
      return;
    }
    const changed = have.config.inputUrl !== config.inputUrl || have.config.transport !== config.transport;
    // The camera recorder reads its config object at every spawn: update it in place.
    Object.assign(have.config, config);
    const running = have.recorder.status()[0]?.running === true;
    if (changed && running) await have.recorder.pauseCamera(config.cameraId);
    if ((changed || !running) && !this.held.has(config.cameraId))
      await have.recorder.resumeCamera(config.cameraId);
  }

  /** Stops recording an ONVIF camera whose stream cannot be resolved (until the next `record`). */
  async suspend(cameraId: string): Promise<void> {
    await this.dynamic.get(cameraId)?.recorder.pauseCamera(cameraId);
  }

  has(cameraId: string): boolean {
    return this.dynamic.has(cameraId) || this.o.cameras.some((c) => c.cameraId === cameraId);
  }

  private of(cameraId: string): Recorder | undefined {
    return this.dynamic.get(cameraId)?.recorder ?? (this.fixed.camera(cameraId) ? this.fixed : undefined);
  }

  status(): CameraRecorderStatus[] {
    return [...this.fixed.status(), ...[...this.dynamic.values()].flatMap((d) => d.recorder.status())];
  }

  async pauseCamera(cameraId: string): Promise<void> {
    this.held.add(cameraId);
    await this.of(cameraId)?.pauseCamera(cameraId);
  }

  async resumeCamera(cameraId: string): Promise<void> {
    this.held.delete(cameraId);
    await this.of(cameraId)?.resumeCamera(cameraId);
  }

  async useSubstream(cameraId: string, on: boolean): Promise<boolean> {
    return (await this.of(cameraId)?.useSubstream(cameraId, on)) ?? false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.fixed.stop(), ...[...this.dynamic.values()].map((d) => d.recorder.stop())]);
  }
}
