import { describe, expect, it } from 'vitest';
import type { PostCheck } from '../../../alerts/fire-room/types.js';
import type { CommandRecord, Presence, User } from '../../../storage/types.js';
import { type Current, T0 } from './fixtures.js';

const presence = (over: Partial<Presence> = {}): Presence => ({
  gatewayId: 'gw-a',
  siteId: 'site-a',
  state: 'online',
  changedAt: T0,
  lastSeenAt: T0,
  lastHeartbeatAt: null,
  heartbeatIntervalS: 30.5,
  outboxDepth: 0,
  reason: null,
  ...over,
});

const user = (over: Partial<User> = {}): User => ({
  id: 'u1',
  username: 'li.na',
  passwordHash: 'scrypt$abc',
  role: 'institution_head',
  siteIds: ['site-a', 'site-b'],
  regionId: null,
  ...over,
});

const command = (over: Partial<CommandRecord> = {}): CommandRecord => ({
  id: 'c1',
  siteId: 'site-a',
  name: 'post_check',
  args: { deadlineS: 600 },
  actor: 'admin',
  sentAt: T0,
  status: 'sent',
  repliedAt: null,
  reply: null,
  ...over,
});

export function registryContract(h: Current): void {
  describe('registry', () => {
    it('upserts sites and gateways; a gateway needs its site', async () => {
      const { registry } = h().store;
      await registry.upsertSite({ id: 'site-b', name: 'B' });
      await registry.upsertSite({ id: 'site-a', name: 'A', region: 'r1' });
      await registry.upsertSite({ id: 'site-a', name: 'A renamed', region: null });
      expect((await registry.sites()).map((s) => [s.id, s.name, s.region])).toEqual([
        ['site-a', 'A renamed', null],
        ['site-b', 'B', null],
      ]);
      expect(typeof (await registry.sites())[0]!.createdAt).toBe('number');
      expect(await registry.site('site-b')).toMatchObject({ id: 'site-b', name: 'B', region: null });
      expect(await registry.site('site-zz')).toBeNull();
      await registry.putGateway({ id: 'gw-a', siteId: 'site-a', secretHash: 'h1' });
      await registry.putGateway({ id: 'gw-a', siteId: 'site-b', secretHash: 'h2' });
      expect(await registry.gateway('gw-a')).toEqual({
        id: 'gw-a',
        siteId: 'site-b',
        secretHash: 'h2',
        disabled: false,
      });
      expect(await registry.gateway('gw-x')).toBeNull();
      await expect(registry.putGateway({ id: 'gw-z', siteId: 'no-site', secretHash: 'h' })).rejects.toThrow();
      expect((await registry.gateways()).map((g) => g.id)).toEqual(['gw-a']);
    });

    it('keeps one presence row per gateway', async () => {
      const { registry } = h().store;
      await registry.upsertSite({ id: 'site-a', name: 'A' });
      await registry.putGateway({ id: 'gw-a', siteId: 'site-a', secretHash: 'h' });
      await registry.setPresence(presence());
      const later = presence({
        state: 'offline',
        changedAt: T0 + 5,
        outboxDepth: 12,
        reason: 'missed heartbeats',
      });
      await registry.setPresence(later);
      expect(await registry.presence()).toEqual([later]);
    });

    it('stores the latest inventory of a site and the region tree', async () => {
      const { registry } = h().store;
      await registry.upsertSite({ id: 'site-a', name: 'A' });
      expect(await registry.inventory('site-a')).toBeNull();
      const body = { devices: [{ id: 'btn-1', kind: 'emergency_call', label: '床头 101' }] };
      await registry.putInventory('site-a', { devices: [] }, T0);
      await registry.putInventory('site-a', body, T0 + 1);
      expect(await registry.inventory('site-a')).toEqual({ body, receivedAt: T0 + 1 });
      await registry.upsertRegion({ id: 'p', parentId: null, name: '省', level: 'province' });
      await registry.upsertRegion({ id: 'c', parentId: 'p', name: '市', level: 'city' });
      await registry.upsertRegion({ id: 'c', parentId: 'p', name: '市 2', level: 'city' });
      expect(await registry.regions()).toEqual([
        { id: 'c', parentId: 'p', name: '市 2', level: 'city' },
        { id: 'p', parentId: null, name: '省', level: 'province' },
      ]);
    });
  });

  describe('users and sessions', () => {
    it('stores users, updating by username', async () => {
      const { users } = h().store;
      await users.putUser(user());
      await users.putUser(user({ id: 'u2', username: 'admin', role: 'admin', siteIds: '*' }));
      expect(await users.byUsername('li.na')).toEqual(user());
      expect(await users.byId('u2')).toMatchObject({ role: 'admin', siteIds: '*' });
      await users.putUser(user({ passwordHash: 'scrypt$new', siteIds: ['site-c'] }));
      expect(await users.byId('u1')).toMatchObject({ passwordHash: 'scrypt$new', siteIds: ['site-c'] });
      expect(await users.byUsername('nobody')).toBeNull();
      expect(await users.byId('nobody')).toBeNull();
    });

    it('answers a session until it expires or is deleted', async () => {
      const { users } = h().store;
      await users.putUser(user());
      await users.createSession('tok1', { userId: 'u1', csrf: 'c1', expiresAt: T0 + 1000 }, T0);
      await users.createSession('tok2', { userId: 'u1', csrf: 'c2', expiresAt: T0 + 1000 }, T0);
      expect(await users.session('tok1', T0 + 999)).toEqual({
        userId: 'u1',
        csrf: 'c1',
        expiresAt: T0 + 1000,
      });
      expect(await users.session('tok1', T0 + 1000)).toBeNull();
      await users.deleteSession('tok2');
      expect(await users.session('tok2', T0)).toBeNull();
      expect(await users.session('unknown', T0)).toBeNull();
    });
  });

  describe('commands', () => {
    it('records the outcome once', async () => {
      const { commands } = h().store;
      await commands.insert(command());
      await commands.insert(command({ id: 'c2', sentAt: T0 + 1 }));
      expect(await commands.complete('c1', 'ok', T0 + 5, { answered: true })).toBe(true);
      expect(await commands.complete('c1', 'timeout', T0 + 9, null)).toBe(false);
      expect(await commands.complete('nope', 'ok', T0, null)).toBe(false);
      expect(await commands.get('c1')).toEqual(
        command({ status: 'ok', repliedAt: T0 + 5, reply: { answered: true } }),
      );
      expect(await commands.get('c9')).toBeNull();
      expect((await commands.list('site-a', 10)).map((c) => c.id)).toEqual(['c2', 'c1']);
      expect(await commands.list('site-b', 10)).toEqual([]);
      const both = await Promise.all([
        commands.complete('c2', 'ok', T0 + 2, null),
        commands.complete('c2', 'failed', T0 + 2, null),
      ]);
      expect(both.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('silences', () => {
    it('answers active silences and ends one once', async () => {
      const { silences } = h().store;
      const s = {
        id: 's1',
        siteId: 'site-a',
        type: 'low_battery',
        source: null,
        startsAt: T0,
        endsAt: T0 + 1000,
        reason: 'battery swap',
        createdBy: 'admin',
        createdAt: T0,
      };
      await silences.add(s);
      await silences.add({ ...s, id: 's2', siteId: 'site-b', type: null, endsAt: T0 + 500 });
      expect((await silences.active(T0 + 10)).map((x) => x.id)).toEqual(['s2', 's1']);
      expect((await silences.active(T0 + 10, ['site-a'])).map((x) => x.id)).toEqual(['s1']);
      expect(await silences.active(T0 - 1)).toEqual([]);
      expect(await silences.get('s1')).toEqual(s);
      expect(await silences.end('s1', T0 + 20)).toBe(true);
      expect(await silences.end('s1', T0 + 30)).toBe(false);
      expect(await silences.active(T0 + 25, ['site-a'])).toEqual([]);
    });
  });

  describe('fire room', () => {
    it('applies an attendance event once and tracks presence', async () => {
      const { fireRoom } = h().store;
      const checkIn = {
        siteId: 'site-a',
        operatorId: 'op1',
        action: 'check_in' as const,
        count: null,
        source: 'badge',
        at: T0,
      };
      expect(await fireRoom.recordAttendance(checkIn, 'ev1')).toBe(true);
      expect(await fireRoom.recordAttendance(checkIn, 'ev1')).toBe(false);
      expect(await fireRoom.present('site-a')).toEqual([{ operatorId: 'op1', since: T0 }]);
      await fireRoom.recordAttendance({ ...checkIn, action: 'check_out', at: T0 + 5 }, 'ev2');
      expect(await fireRoom.present('site-a')).toEqual([]);
      await fireRoom.recordAttendance(
        { ...checkIn, operatorId: null, action: 'occupancy', count: 2, at: T0 + 6 },
        null,
      );
      expect(await fireRoom.occupancy('site-a')).toEqual({ count: 2, at: T0 + 6 });
      expect((await fireRoom.attendance('site-a', T0, 10)).map((a) => a.action)).toEqual([
        'occupancy',
        'check_out',
        'check_in',
      ]);
      expect((await fireRoom.settings('site-a')).minOperators).toBe(2);
      await fireRoom.putSettings('site-a', { minOperators: 1, maxShiftH: 8.5, randomPostChecksPerDay: 0 });
      expect(await fireRoom.settings('site-a')).toEqual({
        minOperators: 1,
        maxShiftH: 8.5,
        randomPostChecksPerDay: 0,
      });
    });

    it('applies a burst of attendance in order in one call, each event once', async () => {
      const { fireRoom } = h().store;
      const e = (operatorId: string, action: 'check_in' | 'check_out', at: number) => ({
        siteId: 'site-b',
        operatorId,
        action,
        count: null,
        source: 'badge',
        at,
      });
      expect(
        await fireRoom.recordAttendanceMany([
          { entry: e('op1', 'check_in', T0), eventId: 'b1' },
          { entry: e('op2', 'check_in', T0 + 1), eventId: 'b2' },
          { entry: e('op1', 'check_out', T0 + 2), eventId: 'b3' },
          { entry: e('op1', 'check_in', T0), eventId: 'b1' },
        ]),
      ).toEqual([true, true, true, false]);
      expect(await fireRoom.present('site-b')).toEqual([{ operatorId: 'op2', since: T0 + 1 }]);
      expect(
        await fireRoom.recordAttendanceMany([{ entry: e('op2', 'check_out', T0 + 3), eventId: 'b2' }]),
      ).toEqual([false]);
      expect(await fireRoom.recordAttendanceMany([])).toEqual([]);
    });

    it('answers or misses each post check once', async () => {
      const { fireRoom } = h().store;
      const check = (id: string, deadlineAt: number): PostCheck => ({
        id,
        siteId: 'site-a',
        issuedAt: T0,
        issuedBy: 'admin',
        deadlineAt,
        state: 'pending',
        answeredAt: null,
        answeredBy: null,
        via: null,
      });
      await fireRoom.createPostCheck(check('p1', T0 + 600));
      await fireRoom.createPostCheck(check('p2', T0 + 300));
      expect(await fireRoom.answerPostCheck('p1', 'op1', 'console', T0 + 10)).toMatchObject({
        state: 'answered',
        answeredBy: 'op1',
      });
      expect(await fireRoom.answerPostCheck('p1', 'op2', 'console', T0 + 11)).toBeNull();
      expect(await fireRoom.answerPostCheck('p2', 'op1', 'console', T0 + 301)).toBeNull();
      expect((await fireRoom.missDue(T0 + 1000)).map((p) => [p.id, p.state])).toEqual([['p2', 'missed']]);
      expect(await fireRoom.missDue(T0 + 2000)).toEqual([]);
      expect((await fireRoom.postChecks('site-a', 10)).map((p) => p.state).sort()).toEqual([
        'answered',
        'missed',
      ]);
    });
  });
}
