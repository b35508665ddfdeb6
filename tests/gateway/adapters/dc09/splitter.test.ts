import { describe, expect, it } from 'vitest';
import { FrameSplitter } from '../../../../gateway/adapters/dc09/splitter.js';

const F1 = '\n11020013"NULL"0003L0#1234[]\r';
const F2 = '\n527D0014"ACK"0042R1L1#1234[]\r';

describe('FrameSplitter', () => {
  it('reassembles a frame cut into single bytes', () => {
    const s = new FrameSplitter();
    const out: string[] = [];
    for (const ch of F1) out.push(...s.push(ch).frames);
    expect(out).toEqual([F1]);
    expect(s.pending).toBe(0);
  });

  it('splits several frames in one chunk and keeps the unfinished tail', () => {
    const s = new FrameSplitter();
    const r = s.push(F1 + F2 + F1.slice(0, 10));
    expect(r.frames).toEqual([F1, F2]);
    expect(s.pending).toBe(10);
    expect(s.push(F1.slice(10)).frames).toEqual([F1]);
  });

  it('counts junk outside frames but not blank line endings', () => {
    const s = new FrameSplitter();
    expect(s.push(`garbage${F1}\r\n`).junk).toBe(1);
    expect(s.push('\r\n').junk).toBe(0);
    const r = s.push(`\nhalf a frame${F2}`);
    expect(r.frames).toEqual([F2]);
    expect(r.junk).toBe(1);
  });

  it('flags a frame that outgrows the limit without CR', () => {
    const s = new FrameSplitter(64);
    expect(s.push(`\n${'A'.repeat(63)}`).overflow).toBe(false);
    expect(s.push('A').overflow).toBe(true);
    expect(new FrameSplitter(16).push(`${F1}`).oversized).toBe(1);
  });
});
