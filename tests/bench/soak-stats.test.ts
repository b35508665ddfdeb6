import { describe, expect, it } from 'vitest';
import { growth, medianAround, promValue, slope, toCsv, warmupIndex } from '../../bench/soak-stats.js';

describe('soak stats', () => {
  const text = [
    '# HELP carewatch_nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.',
    '# TYPE carewatch_nodejs_heap_size_used_bytes gauge',
    'carewatch_nodejs_heap_size_used_bytes 12345678',
    'carewatch_nodejs_eventloop_lag_p99_seconds 0.012',
    'carewatch_nodejs_eventloop_lag_p99_seconds_extra 9',
    'other_metric{label="x"} 4',
  ].join('\n');

  it('reads unlabelled metrics whatever their prefix', () => {
    expect(promValue(text, 'nodejs_heap_size_used_bytes')).toBe(12345678);
    expect(promValue(text, 'nodejs_eventloop_lag_p99_seconds')).toBe(0.012);
    expect(promValue(text, 'missing_metric')).toBeNull();
    expect(promValue('nodejs_heap_size_used_bytes NaN', 'nodejs_heap_size_used_bytes')).toBeNull();
  });

  it('smooths a point with the median of its neighbours', () => {
    expect(medianAround([10, 100, 12, 14], 1)).toBe(12);
    expect(medianAround([10, 100, 12, 14], 3)).toBe(13);
    expect(medianAround([null, 5, null], 1)).toBe(5);
    expect(medianAround([null], 0)).toBeNaN();
  });

  it('finds the first sample after the warm-up fraction', () => {
    expect(warmupIndex([10, 20, 30, 40, 50], 50)).toBe(0);
    expect(warmupIndex([5, 10, 15, 20, 25, 30, 35, 40, 45, 50], 50)).toBe(1);
    expect(warmupIndex([1, 2], 100)).toBe(1);
  });

  it('reports growth from the warm-up point to the end', () => {
    const g = growth([50, 100, 100, 101, 105, 110, 110], 2);
    expect(g.from).toBe(100);
    expect(g.to).toBe(110);
    expect(g.pct).toBeCloseTo(10, 6);
  });

  it('fits the trend after the warm-up point', () => {
    expect(slope([0, 10, 20, 30], [999, 5, 7, 9], 1)).toBeCloseTo(0.2, 9);
    expect(slope([0, 10, 20], [1, null, 1])).toBe(0);
    expect(slope([0], [1])).toBeNaN();
  });

  it('writes CSV with quoting and empty cells for missing values', () => {
    expect(toCsv([{ a: 1, b: 'x,y', c: null, d: Number.NaN }])).toBe('a,b,c,d\n1,"x,y",,\n');
    expect(toCsv([])).toBe('');
  });
});
