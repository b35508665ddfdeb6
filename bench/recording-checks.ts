/**
 * The "holds" rule of the camera ramp, shared by the in-process and the
 * gateway-process modes: over a window, every camera indexes segments on time
 * (no interval between two indexed segments, or from the window's edges,
 * above 1.5 × the segment length + 1 s), each of the right length (± 1 s),
 * and no stall, exit, offline or error event happens.
 */
export interface CamLog {
  /** Wall-clock times at which a segment of the camera was seen indexed. */
  indexedAt: number[];
  segments: Array<{ at: number; ms: number; bytes: number }>;
}

export interface BadEvent {
  at: number;
  type: string;
  cameraId: string;
}

export interface WindowVerdict {
  reasons: string[];
  segments: number;
  mbitPerStream: number;
  maxIntervalS: number;
}

export function judgeWindow(
  cameraIds: string[],
  logs: Map<string, CamLog>,
  bad: BadEvent[],
  t0: number,
  t1: number,
  segMs: number,
): WindowVerdict {
  const reasons: string[] = [];
  const badIn = bad.filter((b) => b.at >= t0 && b.at <= t1);
  for (const type of new Set(badIn.map((b) => b.type))) {
    const cams = new Set(badIn.filter((b) => b.type === type).map((b) => b.cameraId));
    reasons.push(`${type} on ${cams.size} cameras`);
  }
  let late = 0;
  let wrongLength = 0;
  let maxInterval = 0;
  let segments = 0;
  let bytes = 0;
  let mediaMs = 0;
  const allowedMs = 1.5 * segMs + 1000;
  for (const id of cameraIds) {
    const l = logs.get(id) ?? { indexedAt: [], segments: [] };
    const before = l.indexedAt.filter((t) => t < t0).at(-1) ?? t0;
    const inside = l.indexedAt.filter((t) => t >= t0 && t <= t1);
    const marks = [before, ...inside, t1];
    let worst = 0;
    for (let k = 1; k < marks.length; k++) worst = Math.max(worst, marks[k]! - marks[k - 1]!);
    maxInterval = Math.max(maxInterval, worst);
    if (worst > allowedMs) late++;
    for (const d of l.segments.filter((x) => x.at >= t0 && x.at <= t1)) {
      segments++;
      bytes += d.bytes;
      mediaMs += d.ms;
      if (Math.abs(d.ms - segMs) > 1000) wrongLength++;
    }
  }
  if (late) reasons.push(`${late} cameras late (max interval ${(maxInterval / 1000).toFixed(1)} s)`);
  if (wrongLength) reasons.push(`${wrongLength} segments of the wrong length`);
  return {
    reasons,
    segments,
    mbitPerStream: mediaMs ? (bytes * 8) / (mediaMs / 1000) / 1e6 : 0,
    maxIntervalS: maxInterval / 1000,
  };
}
