/** Lines of ffmpeg's CSV segment list (`-segment_list_type csv`). */

export interface ListEntry {
  name: string;
  startS: number;
  endS: number;
}

/** `name,start,end` (name possibly quoted by ffmpeg when it contains a comma). */
export function parseListLine(line: string): ListEntry | undefined {
  const m = /^(.*),(-?[\d.]+),(-?[\d.]+)\s*$/.exec(line);
  if (!m) return undefined;
  let name = m[1]!;
  if (name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/""/g, '"');
  const startS = Number(m[2]);
  const endS = Number(m[3]);
  if (!name || name.includes('/') || !Number.isFinite(startS) || !Number.isFinite(endS) || endS < startS) {
    return undefined;
  }
  return { name, startS, endS };
}
