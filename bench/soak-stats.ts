/** Pure helpers of the soak benchmark: Prometheus text, growth figures, CSV. */

/** The value of an unlabelled metric whose name ends with `suffix` (any prefix, e.g. `carewatch_`). */
export function promValue(text: string, suffix: string): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\S+)/);
    if (m && (m[1] === suffix || m[1]!.endsWith(`_${suffix}`))) {
      const v = Number(m[2]);
      return Number.isFinite(v) ? v : null;
    }
  }
  return null;
}

/** The median of the values at indexes [i - k, i + k] (clamped), NaNs and nulls ignored. */
export function medianAround(values: Array<number | null>, i: number, k = 1): number {
  const w = values
    .slice(Math.max(0, i - k), Math.min(values.length, i + k + 1))
    .filter((v): v is number => v !== null && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (w.length === 0) return Number.NaN;
  const mid = Math.floor(w.length / 2);
  return w.length % 2 ? w[mid]! : (w[mid - 1]! + w[mid]!) / 2;
}

/** Index of the first sample taken at or after the warm-up fraction of the run. */
export function warmupIndex(elapsedS: number[], totalS: number, fraction = 0.2): number {
  const i = elapsedS.findIndex((t) => t >= totalS * fraction);
  return i < 0 ? Math.max(0, elapsedS.length - 1) : i;
}

export interface Growth {
  /** Smoothed value (median of three samples) at the start of the measured window. */
  from: number;
  /** Smoothed value at the end of the run. */
  to: number;
  pct: number;
}

/** Growth from the sample at `start` to the last sample, each the median of itself and its neighbours. */
export function growth(values: Array<number | null>, start: number): Growth {
  const from = medianAround(values, start);
  const to = medianAround(values, values.length - 1);
  return { from, to, pct: ((to - from) / from) * 100 };
}

/** CSV of flat records (header from the first record's keys). */
export function toCsv(rows: Array<Record<string, string | number | null>>): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!);
  const cell = (v: string | number | null) => {
    if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[keys.join(','), ...rows.map((r) => keys.map((k) => cell(r[k] ?? null)).join(','))].join('\n')}\n`;
}

export const mib = (bytes: number | null) => (bytes === null ? '-' : (bytes / 1048576).toFixed(1));

/** Least-squares slope of `values` over `times` from index `start` on (units of value per unit of time). */
export function slope(times: number[], values: Array<number | null>, start = 0): number {
  const pts: Array<[number, number]> = [];
  for (let i = start; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) pts.push([times[i]!, v]);
  }
  if (pts.length < 2) return Number.NaN;
  const mx = pts.reduce((a, [x]) => a + x, 0) / pts.length;
  const my = pts.reduce((a, [, y]) => a + y, 0) / pts.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of pts) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}
