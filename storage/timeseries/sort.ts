import type { KindCountBucket } from './types.js';

/** One order for both backends: by bucket, then kind (code-unit order, not locale). */
export const byTimeThenKind = (a: KindCountBucket, b: KindCountBucket): number =>
  a.t - b.t || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0);
