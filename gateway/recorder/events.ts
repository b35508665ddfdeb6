/**
 * What the recorder and the retention sweeper report. They have no MQTT
 * dependency: the gateway subscribes with an `onEvent` callback and maps these
 * to protocol messages.
 */
import type { Segment } from './segment-index.js';

export type RecorderErrorCode =
  /** The ffmpeg binary was not found (spawn ENOENT): set CAREWATCH_FFMPEG or install ffmpeg. */
  | 'FFMPEG_NOT_FOUND'
  /** ffmpeg could not be started for another reason. */
  | 'FFMPEG_SPAWN_FAILED'
  /** The camera's recording directory cannot be created or written. */
  | 'RECORDING_DIR_UNWRITABLE'
  /** A closed segment could not be indexed (stat/rename/insert failed). */
  | 'SEGMENT_INDEX_FAILED';

export type RecorderEvent =
  | { type: 'segment_indexed'; cameraId: string; segment: Segment; recovered: boolean }
  | { type: 'recording_started'; cameraId: string; at: number; pid: number | undefined }
  | {
      type: 'recording_exited';
      cameraId: string;
      at: number;
      code: number | null;
      signal: string | null;
      stderr: string;
    }
  /** No closed segment for 2 × the segment length; `since` is the end of the last one. */
  | { type: 'recording_stalled'; cameraId: string; since: number; at: number }
  | { type: 'recording_resumed'; cameraId: string; since: number; at: number; gapMs: number }
  | { type: 'camera_offline'; cameraId: string; since: number; at: number; reason: string }
  | { type: 'camera_online'; cameraId: string; at: number }
  | { type: 'recorder_error'; cameraId: string; code: RecorderErrorCode; message: string; at: number };

export type RecorderEventHandler = (event: RecorderEvent) => void;
