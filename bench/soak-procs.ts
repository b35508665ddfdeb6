/** Per-process figures of the soak: /proc for RSS and descriptors, /metrics for heap and loop lag. */
import { readdirSync, readFileSync } from 'node:fs';
import { promValue } from './soak-stats.js';

export interface ProcSample {
  rssBytes: number | null;
  heapUsedBytes: number | null;
  fds: number | null;
  /** prom-client's event-loop delay p99 since the previous scrape, in ms. */
  loopLagP99Ms: number | null;
}

export function rssBytes(pid: number): number | null {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export function fdCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Scrapes a process's Prometheus endpoint (2 s bound); nulls when it does not answer. */
export async function scrape(url: string): Promise<Pick<ProcSample, 'heapUsedBytes' | 'loopLagP99Ms'>> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const text = await r.text();
    const lag = promValue(text, 'nodejs_eventloop_lag_p99_seconds');
    return {
      heapUsedBytes: promValue(text, 'nodejs_heap_size_used_bytes'),
      loopLagP99Ms: lag === null ? null : lag * 1000,
    };
  } catch {
    return { heapUsedBytes: null, loopLagP99Ms: null };
  }
}

export async function sampleProc(pid: number, metricsUrl: string): Promise<ProcSample> {
  const m = await scrape(metricsUrl);
  return { rssBytes: rssBytes(pid), fds: fdCount(pid), ...m };
}
