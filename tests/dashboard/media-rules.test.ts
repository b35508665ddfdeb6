import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUploadMeta } from '../../dashboard/routes/gateway-media.js';
import { canWatch } from '../../dashboard/routes/media.js';
import { scopeOf } from '../../dashboard/scope.js';
import { isCarewatchError } from '../../lib/errors.js';
import type { Role, User } from '../../storage/types.js';

const meta = {
  kind: 'clip',
  siteId: 'site-a',
  cameraId: 'cam-1',
  eventId: '01900000-0000-7000-8000-000000000001',
  eventKind: 'emergency_call',
  from: '2026-12-01T10:00:00.000Z',
  to: '2026-12-01T10:00:30.000Z',
};

describe('upload metadata (X-Carewatch-Media)', () => {
  it('reads a valid header', () => {
    expect(parseUploadMeta(JSON.stringify(meta))).toMatchObject({ ...meta, toMs: Date.parse(meta.to) });
  });

  it('names the field that is wrong', () => {
    const bad = (patch: object) => () => parseUploadMeta(JSON.stringify({ ...meta, ...patch }));
    expect(bad({ siteId: '../etc' })).toThrow(/\/siteId/);
    expect(bad({ kind: 'movie' })).toThrow(/\/kind/);
    expect(bad({ extra: 1 })).toThrow(/X-Carewatch-Media/);
    expect(bad({ to: '2026-12-01T09:00:00Z' })).toThrow(/from,to/);
    expect(() => parseUploadMeta(undefined)).toThrow(/missing/);
    expect(() => parseUploadMeta('{')).toThrow(/not JSON/);
  });

  it('answers any header with a coded error or a valid record, never anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 5000 }),
          fc.json(),
          fc
            .record({ kind: fc.string(), siteId: fc.string(), from: fc.string(), to: fc.string() })
            .map((o) => JSON.stringify({ ...meta, ...o })),
        ),
        (header) => {
          try {
            const m = parseUploadMeta(header);
            expect(m.toMs).toBeGreaterThanOrEqual(m.fromMs);
          } catch (err) {
            expect(isCarewatchError(err) && err.code).toBe('MEDIA_META_INVALID');
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('who may watch what', () => {
  const user = (role: Role, siteIds: string[] | '*' = ['site-a'], regionId: string | null = null): User =>
    ({
      id: role,
      username: role,
      role,
      siteIds,
      regionId,
      passwordHash: '',
      createdAt: 0,
      disabled: false,
    }) as unknown as User;
  const regions = [{ id: 'r1', name: 'R1', parentId: null }] as never;
  const sites = [{ id: 'site-a', name: 'A', region: 'r1', createdAt: 0 }] as never;
  const clip = { siteId: 'site-a', eventKind: 'emergency_call' };
  const fire = { siteId: 'site-a', eventKind: 'panel_alarm' };
  const requested = { siteId: 'site-a', eventKind: null };

  it('institution staff see every clip of their own site only', () => {
    const s = scopeOf(user('institution_staff'), [], []);
    expect([clip, fire, requested].map((m) => canWatch(s, m))).toEqual([true, true, true]);
    expect(canWatch(s, { ...clip, siteId: 'site-b' })).toBe(false);
  });

  it('dispatch sees the clips of alarms in its region, not free footage; fire rescue only fire alarms', () => {
    const civil = scopeOf(user('civil_affairs', [], 'r1'), regions, sites);
    expect([clip, fire, requested].map((m) => canWatch(civil, m))).toEqual([true, true, false]);
    const fireRescue = scopeOf(user('fire_rescue', [], 'r1'), regions, sites);
    expect([clip, fire, requested].map((m) => canWatch(fireRescue, m))).toEqual([false, true, false]);
  });
});
