import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessCentral } from '../helpers/central.js';

/**
 * The fire-control room's duty log and shift handovers over HTTP (in-process
 * central): written through their POST routes, read back through
 * GET /api/fire-room/:siteId, malformed bodies refused with a 400 naming the field.
 */
describe('fire-room routes: duty log and handovers', () => {
  let env: Awaited<ReturnType<typeof inProcessCentral>>;
  let token: string;

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${env.base}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });
  const post = (path: string, body: unknown) => call(path, { method: 'POST', body: JSON.stringify(body) });
  interface Room {
    status: { siteId: string; staffed: boolean; occupancyShort: boolean; lastDutyLogAt: number | null };
    dutyLog: Array<{
      siteId: string;
      at: number;
      author: string;
      kind: string;
      body: Record<string, unknown>;
    }>;
    handovers: Array<{
      siteId: string;
      at: number;
      author: string;
      fromOperators: string[];
      toOperators: string[];
      note: string;
    }>;
  }
  const room = async (site: string): Promise<Room> => {
    const r = await call(`/api/fire-room/${site}`);
    expect(r.status).toBe(200);
    return (await r.json()) as Room;
  };

  beforeAll(async () => {
    env = await inProcessCentral({ sites: ['site-a', 'site-b'] });
    const r = await fetch(`${env.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: env.adminPassword }),
    });
    expect(r.status).toBe(200);
    token = ((await r.json()) as { token: string }).token;
  });
  afterAll(async () => env.close());

  it('stores a duty-log entry and a handover and returns them, newest first, on the site only', async () => {
    const before = Date.now();
    const check = await post('/api/fire-room/site-a/duty-log', {
      kind: 'equipment_check',
      body: { panel: 'normal', pumps: 'auto', note: '主机巡检正常' },
    });
    expect(check.status).toBe(200);
    const note = await post('/api/fire-room/site-a/duty-log', { kind: 'note', body: { text: '交班前复位' } });
    expect(note.status).toBe(200);
    const ho = await post('/api/fire-room/site-a/handovers', {
      fromOperators: ['op-1', 'op-2'],
      toOperators: ['op-3', 'op-4'],
      note: '夜班交接：3 楼烟感已复位',
    });
    expect(ho.status).toBe(200);
    const posted = ((await ho.json()) as { handover: Room['handovers'][number] }).handover;

    const a = await room('site-a');
    expect(a.dutyLog.map((e) => [e.siteId, e.author, e.kind, e.body])).toEqual([
      ['site-a', 'user:admin', 'note', { text: '交班前复位' }],
      ['site-a', 'user:admin', 'equipment_check', { panel: 'normal', pumps: 'auto', note: '主机巡检正常' }],
    ]);
    expect(a.dutyLog[0]!.at).toBeGreaterThanOrEqual(before);
    expect(a.status.lastDutyLogAt).toBe(a.dutyLog[0]!.at);
    expect(a.handovers).toEqual([posted]);
    expect(posted).toMatchObject({
      siteId: 'site-a',
      author: 'user:admin',
      fromOperators: ['op-1', 'op-2'],
      toOperators: ['op-3', 'op-4'],
      note: '夜班交接：3 楼烟感已复位',
    });
    expect(a.status).toMatchObject({ siteId: 'site-a', staffed: false, occupancyShort: false });

    const b = await room('site-b');
    expect(b.dutyLog).toEqual([]);
    expect(b.handovers).toEqual([]);
  });

  it('takes author, site and time from the session and the URL, not from the body', async () => {
    const r = await post('/api/fire-room/site-a/handovers', {
      fromOperators: ['op-1'],
      toOperators: ['op-2'],
      note: 'spoof attempt',
      author: 'user:someone-else',
      siteId: 'site-b',
      at: 0,
    });
    // the schema has additionalProperties: false and Fastify's validator drops the extra fields
    expect(r.status).toBe(200);
    const stored = (await room('site-a')).handovers.find((h) => h.note === 'spoof attempt');
    expect(stored).toMatchObject({ siteId: 'site-a', author: 'user:admin' });
    expect(stored!.at).toBeGreaterThan(0);
    expect((await room('site-b')).handovers).toEqual([]);
  });

  it.each([
    // names the field, though not the allowed kinds (ajv's wording for a union of literals)
    ['duty-log', { kind: 'gossip', body: {} }, /body\/kind must be equal to constant/],
    ['duty-log', { kind: 'note' }, /body must have required property 'body'/],
    ['duty-log', { kind: 'note', body: 'just text' }, /body\/body must be object/],
    [
      'handovers',
      { fromOperators: [], toOperators: ['op-2'], note: 'x' },
      /body\/fromOperators must NOT have fewer than 1 items/,
    ],
    [
      'handovers',
      { fromOperators: ['op 1'], toOperators: ['op-2'], note: 'x' },
      /body\/fromOperators\/0 must match pattern/,
    ],
    [
      'handovers',
      { fromOperators: ['op-1'], toOperators: ['op-2'], note: '' },
      /body\/note must NOT have fewer than 1 characters/,
    ],
    [
      'handovers',
      { fromOperators: ['op-1'], toOperators: ['op-2'] },
      /body must have required property 'note'/,
    ],
  ])('refuses a malformed %s body %j with 400 and the field in the message', async (path, body, message) => {
    const before = await room('site-a');
    const r = await post(`/api/fire-room/site-a/${path}`, body);
    expect(r.status).toBe(400);
    const err = ((await r.json()) as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('REQUEST_INVALID');
    expect(err.message).toMatch(message);
    const after = await room('site-a');
    expect(after.dutyLog).toHaveLength(before.dutyLog.length);
    expect(after.handovers).toHaveLength(before.handovers.length);
  });

  it('refuses a body that is not JSON with 400', async () => {
    const r = await call('/api/fire-room/site-a/duty-log', { method: 'POST', body: '{"kind": "note",' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/JSON/i);
  });

  it('the archive of these records refuses an unknown set, a bad date and a bad limit with 400', async () => {
    for (const [path, message] of [
      ['/api/archive/minutes', /params\/set/],
      ['/api/archive/duty?since=yesterday', /querystring\/since/],
      ['/api/archive/handovers?limit=0', /querystring\/limit/],
    ] as const) {
      const r = await call(path);
      expect(r.status, path).toBe(400);
      const err = ((await r.json()) as { error: { code: string; message: string } }).error;
      expect(err.code, path).toBe('REQUEST_INVALID');
      expect(err.message, path).toMatch(message);
    }
    const ok = (await (await call('/api/archive/duty?siteId=site-a')).json()) as { rows: string[][] };
    expect(ok.rows.every((r) => r[1] === 'site-a')).toBe(true);
  });
});
