/**
 * `carewatch coverage` against a prepared central data directory: the table
 * (one heading per institution, one line per required zone with its reason)
 * and the CSV for inspections (BOM, header, one row per site × required zone,
 * quoting, gap codes and reasons, best days kept).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CameraReport, PROTOCOL_VERSION, REQUIRED_ZONES } from '../../protocol/index.js';
import { openCentralStore } from '../../storage/open-store.js';
import { cli, requireBuild, tempDir } from '../helpers/procs.js';

const DAY = 24 * 3600_000;
const dir = tempDir('cw-coverage-cli-');

function cam(deviceId: string, zone: string, over: Partial<CameraReport> = {}): CameraReport {
  return {
    deviceId,
    type: 'camera',
    zone,
    online: true,
    recording: true,
    oldestKeptAt: new Date(Date.now() - 40 * DAY).toISOString(),
    continuityPct: 100,
    policyDays: 30,
    forecastDays: 60,
    ...over,
  };
}

const everyZone = (prefix: string) => REQUIRED_ZONES.map((z) => cam(`${prefix}-${z.replace('_', '-')}`, z));

/**
 * site-a: one zone of each kind of gap; site-b: gateway offline, no duty-room
 * camera, a name that needs CSV quoting; site-c: no inventory; site-d: compliant.
 */
async function prepare(): Promise<void> {
  const store = await openCentralStore({ dataDir: dir.path, postgresUrl: undefined });
  const now = Date.now();
  try {
    const sites: Array<[string, string, boolean, unknown[] | null]> = [
      [
        'site-a',
        '阳光养老院',
        true,
        [
          cam('cam-ent', 'entrance'),
          cam('cam-hall', 'reception_hall', { online: false }),
          cam('cam-duty', 'duty_room', { recording: false }),
          cam('cam-cor', 'corridor', { oldestKeptAt: new Date(now - 5 * DAY).toISOString() }),
          cam('cam-garden', 'garden'),
          { deviceId: 'btn-101', type: 'button' },
        ],
      ],
      ['site-b', 'Maple "Home", East', false, everyZone('b').filter((c) => c.zone !== 'duty_room')],
      ['site-c', '松鹤园', true, null],
      ['site-d', '康乐之家', true, everyZone('d')],
    ];
    for (const [id, name, online, devices] of sites) {
      await store.registry.upsertSite({ id, name });
      await store.registry.putGateway({ id: `gw-${id}`, siteId: id, secretHash: 'x' });
      await store.registry.setPresence({
        gatewayId: `gw-${id}`,
        siteId: id,
        state: online ? 'online' : 'offline',
        changedAt: now,
        lastSeenAt: now,
        lastHeartbeatAt: now,
        heartbeatIntervalS: 30,
        outboxDepth: 0,
        reason: null,
      });
      if (devices) {
        const body = {
          v: PROTOCOL_VERSION,
          siteId: id,
          gatewayId: `gw-${id}`,
          ts: new Date(now).toISOString(),
          devices,
        };
        await store.registry.putInventory(id, body, now);
      }
    }
  } finally {
    await store.close();
  }
}

/** Runs the CLI; stdout alone (logs go to stderr). */
async function coverage(args: string[]): Promise<{ code: number | null; stdout: string; all: string }> {
  requireBuild();
  const p = cli(['coverage', '--data-dir', dir.path, ...args], { CAREWATCH_PG_URL: '' });
  let stdout = '';
  p.child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  // 'close': the process has exited and its output is read to the end
  const code = await new Promise<number | null>((r) => p.child.on('close', (c) => r(c)));
  return { code, stdout, all: p.output() };
}

beforeAll(prepare, 30_000);
afterAll(() => dir.cleanup());

describe('carewatch coverage', () => {
  it('prints each institution with its verdict and every required zone with its reason', async () => {
    const r = await coverage([]);
    expect(r.code, r.all).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4 * (1 + REQUIRED_ZONES.length));
    const block = (site: string) => {
      const i = lines.findIndex((l) => l.startsWith(`${site} `));
      expect(i, site).toBeGreaterThanOrEqual(0);
      return lines.slice(i, i + 1 + REQUIRED_ZONES.length);
    };
    expect(block('site-a')).toEqual([
      'site-a 阳光养老院: GAPS 不合规',
      `  ✔ ${'entrance'.padEnd(15)} 在线、录像、保存≥30天 online, recording, ≥30 days kept`,
      `  ✘ ${'reception_hall'.padEnd(15)} 摄像机离线 camera offline`,
      `  ✘ ${'duty_room'.padEnd(15)} 未录像 not recording`,
      `  ✘ ${'corridor'.padEnd(15)} 保存不足30天 less than 30 days of footage kept`,
      `  ✘ ${'canteen'.padEnd(15)} 无摄像机 no camera covers this zone`,
    ]);
    expect(block('site-b')[0]).toBe('site-b Maple "Home", East: GAPS 不合规');
    expect(
      block('site-b')
        .slice(1)
        .map((l) => l.trim()),
    ).toEqual([
      '✘ entrance        网关离线，状态未知 gateway offline, state unknown',
      '✘ reception_hall  网关离线，状态未知 gateway offline, state unknown',
      '✘ duty_room       无摄像机 no camera covers this zone',
      '✘ corridor        网关离线，状态未知 gateway offline, state unknown',
      '✘ canteen         网关离线，状态未知 gateway offline, state unknown',
    ]);
    expect(block('site-c')[0]).toBe('site-c 松鹤园: GAPS 不合规');
    for (const l of block('site-c').slice(1))
      expect(l).toMatch(/^ {2}✘ \S+ +网关未上报设备清单 no inventory/);
    expect(block('site-d')[0]).toBe('site-d 康乐之家: compliant 合规');
    for (const l of block('site-d').slice(1)) expect(l).toMatch(/^ {2}✔ /);
    // the sites come in id order
    expect(lines.filter((l) => !l.startsWith(' ')).map((l) => l.split(' ')[0])).toEqual([
      'site-a',
      'site-b',
      'site-c',
      'site-d',
    ]);
  }, 30_000);

  it('--csv writes a BOM, the header and one row per site × required zone with codes and reasons', async () => {
    const r = await coverage(['--csv']);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout.startsWith('\uFEFF')).toBe(true);
    expect(r.stdout.endsWith('\r\n')).toBe(true);
    const rows = r.stdout.slice(1).split('\r\n').slice(0, -1);
    expect(rows[0]).toBe('site,site_name,zone,ok,code,reason,cameras,best_days_kept');
    expect(rows).toHaveLength(1 + 4 * REQUIRED_ZONES.length);
    // one row per (site, required zone), in order; the garden camera and the button are not rows
    const keys = rows.slice(1).map((row) => row.split(',').slice(0, 1)[0]);
    expect(keys).toEqual(
      ['site-a', 'site-b', 'site-c', 'site-d'].flatMap((s) => REQUIRED_ZONES.map(() => s)),
    );
    expect(rows.slice(1, 6)).toEqual([
      'site-a,阳光养老院,entrance,yes,ok,"在线、录像、保存≥30天 online, recording, ≥30 days kept",cam-ent:ok,40',
      'site-a,阳光养老院,reception_hall,no,offline,摄像机离线 camera offline,cam-hall:offline,40',
      'site-a,阳光养老院,duty_room,no,not_recording,未录像 not recording,cam-duty:not_recording,40',
      'site-a,阳光养老院,corridor,no,retention_short,保存不足30天 less than 30 days of footage kept,cam-cor:retention_short,5',
      'site-a,阳光养老院,canteen,no,no_camera,无摄像机 no camera covers this zone,,0',
    ]);
    // a name with a comma and quotes is quoted, its quotes doubled
    expect(rows[6]).toBe(
      'site-b,"Maple ""Home"", East",entrance,no,gateway_offline,"网关离线，状态未知 gateway offline, state unknown",b-entrance:ok,40',
    );
    expect(rows[8]).toBe(
      'site-b,"Maple ""Home"", East",duty_room,no,no_camera,无摄像机 no camera covers this zone,,0',
    );
    for (const row of rows.slice(11, 16)) {
      expect(row).toMatch(
        /^site-c,松鹤园,[a-z_]+,no,no_inventory,网关未上报设备清单 no inventory from the gateway yet,,0$/,
      );
    }
    for (const row of rows.slice(16))
      expect(row).toMatch(/^site-d,康乐之家,[a-z_]+,yes,ok,".*",d-[a-z-]+:ok,40$/);
  }, 30_000);
});
