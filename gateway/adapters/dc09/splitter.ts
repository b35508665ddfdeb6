/**
 * Cuts a TCP byte stream into DC-09 frames: each starts at <LF> and ends at
 * <CR>. Bytes outside a frame are junk (counted, dropped); whitespace
 * between frames (a stray CR/LF pair) is not. A frame that grows past
 * `maxBytes` without its <CR> is an overflow: the caller closes the socket.
 */
export class FrameSplitter {
  private buf = '';

  constructor(private readonly maxBytes = 1024) {}

  /** Bytes of an unfinished frame waiting for more data. */
  get pending(): number {
    return this.buf.length;
  }

  push(chunk: Buffer | string): { frames: string[]; junk: number; oversized: number; overflow: boolean } {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const frames: string[] = [];
    let junk = 0;
    let oversized = 0;
    for (;;) {
      const lf = this.buf.indexOf('\n');
      if (lf < 0) {
        if (this.buf.trim().length > 0) junk++;
        this.buf = '';
        break;
      }
      if (lf > 0) {
        if (this.buf.slice(0, lf).trim().length > 0) junk++;
        this.buf = this.buf.slice(lf);
      }
      // A second LF before the CR means the first frame was cut short.
      const cr = this.buf.indexOf('\r');
      const nextLf = this.buf.indexOf('\n', 1);
      if (nextLf >= 0 && (cr < 0 || nextLf < cr)) {
        if (this.buf.slice(0, nextLf).trim().length > 0) junk++;
        this.buf = this.buf.slice(nextLf);
        continue;
      }
      if (cr < 0) break;
      const frame = this.buf.slice(0, cr + 1);
      this.buf = this.buf.slice(cr + 1);
      if (frame.trim().length === 0) continue; // a bare LF CR line ending
      if (frame.length > this.maxBytes) oversized++;
      else frames.push(frame);
    }
    return { frames, junk, oversized, overflow: this.buf.length > this.maxBytes };
  }
}
