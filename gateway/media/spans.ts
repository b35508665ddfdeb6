/** Recorded footage of a camera as continuous spans: neighbouring segments closer than `joinMs` are one span. */
import type { Segment } from '../recorder/segment-index.js';

export interface Span {
  fromMs: number;
  toMs: number;
  segments: number;
  bytes: number;
}

export function recordingSpans(
  segments: readonly Segment[],
  joinMs: number,
  maxSpans: number,
): { spans: Span[]; truncated: boolean } {
  const spans: Span[] = [];
  const sorted = [...segments].sort((a, b) => a.startMs - b.startMs);
  for (const s of sorted) {
    const cur = spans[spans.length - 1];
    if (cur && s.startMs - cur.toMs <= joinMs) {
      cur.toMs = Math.max(cur.toMs, s.endMs);
      cur.segments += 1;
      cur.bytes += s.bytes;
      continue;
    }
    if (spans.length === maxSpans) return { spans, truncated: true };
    spans.push({ fromMs: s.startMs, toMs: s.endMs, segments: 1, bytes: s.bytes });
  }
  return { spans, truncated: false };
}
