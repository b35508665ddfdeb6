/** In-memory stand-ins for the sweeper's index, file system, disk and recording control. */
import type { RecordingControl } from '../../../gateway/recorder/recorder.js';
import type { Gap, NewSegment, Segment } from '../../../gateway/recorder/segment-index.js';
import type { FoundFile, SweeperFs, SweepIndex } from '../../../gateway/retention/types.js';

export const DAY = 86_400_000;
export const T0 = Date.UTC(2026, 0, 1);

export class FakeIndex implements SweepIndex {
  rows = new Map<number, Segment>();
  gapRows: Gap[] = [];
  private nextId = 1;
  /** When set, `expired` also returns these rows, expired or not (a buggy or hostile index). */
  lies: ((cameraId: string) => Segment[]) | undefined;

  cameras() {
    return [...new Set([...this.rows.values()].map((r) => r.cameraId))].sort();
  }
  expired(cameraId: string, cutoffMs: number, limit: number) {
    const honest = [...this.rows.values()]
      .filter((r) => r.cameraId === cameraId && r.endMs < cutoffMs)
      .sort((a, b) => a.startMs - b.startMs);
    return [...honest, ...(this.lies?.(cameraId) ?? [])].slice(0, limit);
  }
  remove(id: number) {
    this.rows.delete(id);
  }
  removeMany(ids: number[]) {
    for (const id of ids) this.rows.delete(id);
  }
  removeWithGap(seg: Segment, reason: string) {
    this.rows.delete(seg.id);
    this.gapRows.push({ cameraId: seg.cameraId, fromMs: seg.startMs, toMs: seg.endMs, reason });
  }
  add(seg: NewSegment) {
    if (this.byPath(seg.path)) return undefined;
    const row = { ...seg, id: this.nextId++ };
    this.rows.set(row.id, row);
    return row;
  }
  byPath(path: string) {
    return [...this.rows.values()].find((r) => r.path === path);
  }
  page(afterId: number, limit: number) {
    return [...this.rows.values()]
      .filter((r) => r.id > afterId)
      .sort((a, b) => a.id - b.id)
      .slice(0, limit);
  }
  totals(cameraId?: string) {
    const rs = [...this.rows.values()].filter((r) => cameraId === undefined || r.cameraId === cameraId);
    return { segments: rs.length, bytes: rs.reduce((s, r) => s + r.bytes, 0) };
  }
  bytesPerDay(cameraId: string, days: number, nowMs: number) {
    const from = nowMs - days * DAY;
    const rs = [...this.rows.values()].filter(
      (r) => r.cameraId === cameraId && r.startMs >= from && r.startMs < nowMs,
    );
    if (!rs.length) return 0;
    const first = Math.min(...rs.map((r) => r.startMs));
    const b = rs.reduce((s, r) => s + r.bytes, 0);
    return (b * DAY) / Math.max(nowMs - Math.max(from, first), 60_000);
  }
  bytesBetween(cameraId: string, fromMs: number, toMs: number) {
    return [...this.rows.values()]
      .filter((r) => r.cameraId === cameraId && r.startMs >= fromMs && r.startMs < toMs)
      .reduce((s, r) => s + r.bytes, 0);
  }
  oldest(cameraId: string) {
    return [...this.rows.values()]
      .filter((r) => r.cameraId === cameraId)
      .sort((a, b) => a.startMs - b.startMs)[0];
  }
  addGap(gap: Gap) {
    this.gapRows.push(gap);
  }
  dropGapsBefore(beforeMs: number) {
    const n = this.gapRows.length;
    this.gapRows = this.gapRows.filter((g) => g.toMs >= beforeMs);
    return n - this.gapRows.length;
  }
}

export class MemFs implements SweeperFs {
  files = new Map<string, Omit<FoundFile, 'path'>>();
  unlinked: string[] = [];
  failUnlink = new Set<string>();

  bytes(): number {
    let b = 0;
    for (const f of this.files.values()) b += f.bytes;
    return b;
  }
  put(path: string, cameraId: string, mtimeMs: number, bytes = 1) {
    this.files.set(path, { cameraId, name: path.split('/').pop()!, mtimeMs, bytes });
  }
  async unlink(path: string) {
    if (this.failUnlink.has(path)) throw Object.assign(new Error('EIO'), { code: 'EIO' });
    this.unlinked.push(path);
    this.files.delete(path);
  }
  async exists(path: string) {
    return this.files.has(path);
  }
  async *walk() {
    for (const [path, f] of [...this.files]) yield { path, ...f };
  }
}

export class FakeControl implements RecordingControl {
  calls: string[] = [];
  constructor(private readonly substreams: Set<string> = new Set()) {}
  async pauseCamera(id: string) {
    this.calls.push(`pause:${id}`);
  }
  async resumeCamera(id: string) {
    this.calls.push(`resume:${id}`);
  }
  async useSubstream(id: string, on: boolean) {
    if (on && !this.substreams.has(id)) return false;
    this.calls.push(`substream:${id}:${on}`);
    return true;
  }
}
