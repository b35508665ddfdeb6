/** Console table, verdict and sample files of the soak benchmark. */
import type { LoadCounts } from './soak-load.js';
import type { ProcSample } from './soak-procs.js';
import { growth, mib, slope, toCsv, warmupIndex } from './soak-stats.js';
import type { CountedKind } from './soak-store.js';
import { ms } from './stats.js';

export interface SoakRow {
  /** Seconds since the load started. */
  t: number;
  procs: Record<string, ProcSample>;
  storedPerS: number;
  lagP50: number;
  lagP99: number;
  probeN: number;
  probeP50: number;
  probeP99: number;
  restP50: number;
  restP99: number;
}

type Summary = { n: number; p50: number; p99: number; max: number };

export interface SoakOutcome {
  config: Record<string, number>;
  rows: SoakRow[];
  procNames: string[];
  totalS: number;
  floorBefore: Summary;
  floorAfter: Summary;
  sent: LoadCounts;
  stored: Record<CountedKind, number>;
  duplicates: number;
  drainS: number;
  probeTimeouts: number;
  restErrors: number;
  restReads: number;
  wsMessages: number;
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const pad = (s: string, n: number) => s.padStart(n);

let headerDone = false;
function row(r: SoakRow, names: string[]): void {
  const gws = names.filter((n) => n !== 'central');
  const c = r.procs.central!;
  const avg = (pick: (p: ProcSample) => number | null) => {
    const v = gws.map((g) => pick(r.procs[g]!)).filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const maxLag = Math.max(...gws.map((g) => r.procs[g]!.loopLagP99Ms ?? Number.NaN));
  if (!headerDone) {
    console.log(
      [
        pad('t s', 6),
        pad('central rss/heap MiB', 21),
        pad('fds', 4),
        pad('loop p99', 9),
        pad('gw avg rss/heap MiB', 20),
        pad('fds', 4),
        pad('loop p99', 9),
        pad('stored/s', 9),
        pad('ev lag p50/p99 ms', 18),
        pad('probe n', 8),
        pad('probe p50/p99 ms', 17),
        pad('rest p50 ms', 12),
      ].join(' '),
    );
    headerDone = true;
  }
  console.log(
    [
      pad(String(r.t), 6),
      pad(`${mib(c.rssBytes)}/${mib(c.heapUsedBytes)}`, 21),
      pad(String(c.fds ?? '-'), 4),
      pad(f1(c.loopLagP99Ms ?? Number.NaN), 9),
      pad(`${mib(avg((p) => p.rssBytes))}/${mib(avg((p) => p.heapUsedBytes))}`, 20),
      pad(f1(avg((p) => p.fds) ?? Number.NaN), 4),
      pad(f1(maxLag), 9),
      pad(f1(r.storedPerS), 9),
      pad(`${f1(r.lagP50)}/${f1(r.lagP99)}`, 18),
      pad(String(r.probeN), 8),
      pad(`${f1(r.probeP50)}/${f1(r.probeP99)}`, 17),
      pad(f1(r.restP50), 12),
    ].join(' '),
  );
}

function flat(r: SoakRow, names: string[]): Record<string, number | null> {
  const out: Record<string, number | null> = {
    t_s: r.t,
    stored_per_s: Number(r.storedPerS.toFixed(2)),
    event_lag_p50_ms: r.lagP50,
    event_lag_p99_ms: r.lagP99,
    probe_n: r.probeN,
    probe_p50_ms: r.probeP50,
    probe_p99_ms: r.probeP99,
    rest_p50_ms: r.restP50,
    rest_p99_ms: r.restP99,
  };
  for (const n of names) {
    const p = r.procs[n]!;
    out[`${n}_rss_bytes`] = p.rssBytes;
    out[`${n}_heap_used_bytes`] = p.heapUsedBytes;
    out[`${n}_fds`] = p.fds;
    out[`${n}_loop_lag_p99_ms`] = p.loopLagP99Ms;
  }
  return out;
}

function verdict(o: SoakOutcome): { json: unknown; csv: string } {
  const { rows, procNames } = o;
  const warm = (o.config.warmupPct ?? 20) / 100;
  const w = warmupIndex(
    rows.map((r) => r.t),
    o.totalS,
    warm,
  );
  const lines: string[] = [''];
  lines.push(
    `memory and descriptors (warm-up: first ${Math.round(warm * 100)} % = ${Math.round(o.totalS * warm)} s excluded; each point the median of 3 samples)`,
  );
  lines.push(
    '  process   RSS MiB initial → after warm-up → end (growth)     heap MiB initial → after warm-up → end (growth)    fds initial → warm → end',
  );
  const growthOut: Record<string, unknown> = {};
  let worstRss = Number.NEGATIVE_INFINITY;
  const trends: string[] = [];
  for (const n of procNames) {
    const rss = rows.map((r) => r.procs[n]!.rssBytes);
    const heap = rows.map((r) => r.procs[n]!.heapUsedBytes);
    const fds = rows.map((r) => r.procs[n]!.fds);
    const gr = growth(rss, w);
    const gh = growth(heap, w);
    const gf = growth(fds, w);
    worstRss = Math.max(worstRss, gr.pct);
    const times = rows.map((r) => r.t / 600);
    trends.push(
      `${n} ${mib(slope(times, rss, w))} / ${mib(slope(times, heap, w))} MiB per 10 min, ${slope(times, fds, w).toFixed(2)} fds per 10 min`,
    );
    growthOut[n] = {
      rss: { initial: rss[0], ...gr },
      heap: { initial: heap[0], ...gh },
      fds: { initial: fds[0], ...gf },
    };
    lines.push(
      `  ${n.padEnd(8)}  ${mib(rss[0] ?? null)} → ${mib(gr.from)} → ${mib(gr.to)} (${gr.pct >= 0 ? '+' : ''}${gr.pct.toFixed(1)} %)`.padEnd(
        62,
      ) +
        `${mib(heap[0] ?? null)} → ${mib(gh.from)} → ${mib(gh.to)} (${gh.pct >= 0 ? '+' : ''}${gh.pct.toFixed(1)} %)`.padEnd(
          50,
        ) +
        `${fds[0] ?? '-'} → ${gf.from} → ${gf.to}`,
    );
  }
  lines.push(`  least-squares trend after warm-up (RSS / heap): ${trends.join('; ')}`);
  const first = rows[0];
  const lastRow = rows.at(-1);
  const fb = o.floorBefore;
  const fa = o.floorAfter;
  lines.push('');
  lines.push(
    `baseline, bare aedes QoS 1 hop: before p50 ${ms(fb.p50)} p99 ${ms(fb.p99)}; after p50 ${ms(fa.p50)} p99 ${ms(fa.p99)}`,
  );
  if (first && lastRow) {
    lines.push(
      `probe press → WebSocket: first interval p50 ${ms(first.probeP50)} p99 ${ms(first.probeP99)} (${(first.probeP50 / fb.p50).toFixed(1)}× / ${(first.probeP99 / fb.p99).toFixed(1)}× floor); ` +
        `last interval p50 ${ms(lastRow.probeP50)} p99 ${ms(lastRow.probeP99)} (${(lastRow.probeP50 / fb.p50).toFixed(1)}× / ${(lastRow.probeP99 / fb.p99).toFixed(1)}× floor)`,
    );
    lines.push(
      `event lag source → central: first interval p50 ${ms(first.lagP50)} p99 ${ms(first.lagP99)}; last interval p50 ${ms(lastRow.lagP50)} p99 ${ms(lastRow.lagP99)}`,
    );
  }
  const sent = o.sent;
  const lost =
    Math.max(0, sent.emergency_call - o.stored.emergency_call) +
    Math.max(0, sent.attendance - o.stored.attendance) +
    Math.max(0, sent.panel_alarm - o.stored.panel_alarm);
  lines.push(
    `events acknowledged → stored: emergency_call ${sent.emergency_call} → ${o.stored.emergency_call}, attendance ${sent.attendance} → ${o.stored.attendance}, panel_alarm ${sent.panel_alarm} → ${o.stored.panel_alarm}; ` +
      `lost ${lost}, duplicated ${o.duplicates}, not acknowledged ${sent.failed}, skipped ${sent.skipped} (drain after the load: ${o.drainS.toFixed(1)} s)`,
  );
  lines.push(
    `probe timeouts ${o.probeTimeouts}; REST reads ${o.restReads}, errors ${o.restErrors}; WebSocket messages ${o.wsMessages}`,
  );
  // the growth is measured over what follows the warm-up
  const minutes = (o.totalS * (1 - warm)) / 60;
  lines.push(
    `verdict: worst RSS growth after warm-up ${worstRss.toFixed(1)} % over the ${minutes.toFixed(1)} min after it (target < 10 % over 30 min): ${worstRss < 10 ? 'met' : 'NOT met'}${minutes < 29.5 ? ' (indicative only: fewer than 30 min after the warm-up)' : ''}; nothing lost: ${lost === 0 && o.duplicates === 0 ? 'yes' : 'NO'}`,
  );
  console.log(lines.join('\n'));
  return {
    json: { ...o, warmupIndex: w, growth: growthOut, lost, worstRssGrowthPct: worstRss },
    csv: toCsv(rows.map((r) => flat(r, procNames))),
  };
}

export const printReport = { row, verdict };
