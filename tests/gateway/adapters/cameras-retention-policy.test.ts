/**
 * A `retention_policy` command accepted by the camera module changes what the
 * retention sweeper deletes and what the inventory reports, and it survives a
 * restart of the module on the same database: the stored value applies over
 * `retentionDays` of the config. A refused command changes nothing.
 *
 * In-process, without ffmpeg: the one camera is an ONVIF camera at a closed
 * port (it stays offline); the footage is files added to the segment index.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CameraModule } from '../../../gateway/adapters/cameras.js';
import { CommandRouter } from '../../../gateway/commands.js';
import { CamerasConfig } from '../../../gateway/config.js';
import { Outbox } from '../../../gateway/outbox.js';
import { SegmentIndex } from '../../../gateway/recorder/segment-index.js';
import { validateConfig } from '../../../lib/config.js';
import { Metrics } from '../../../lib/metrics.js';
import { freePort, tempDir } from '../../../lib/testkit/procs.js';
import { type CommandReply, commandTopic, mintId, PROTOCOL_VERSION } from '../../../protocol/index.js';
import { type Db, openDatabase } from '../../../storage/sqlite/open.js';

const DAY = 86_400_000;
const dir = tempDir('cw-cam-policy-');
const recordings = join(dir.path, 'rec');
const dbPath = join(dir.path, 'gateway.db');

interface Running {
  db: Db;
  cams: CameraModule;
  commands: CommandRouter;
  replies: CommandReply[];
}
let current: Running | undefined;

async function startModule(): Promise<Running> {
  const config = validateConfig(
    CamerasConfig,
    {
      recordingsDir: recordings,
      retentionDays: 30,
      devices: [
        { deviceId: 'cam-1', zone: 'entrance', onvif: { host: '127.0.0.1', port: await freePort() } },
      ],
    },
    'site.yaml',
  );
  const db = openDatabase(dbPath);
  const replies: CommandReply[] = [];
  const commands = new CommandRouter({
    siteId: 'site-a',
    reply: (_topic, payload) => replies.push(JSON.parse(payload.toString()) as CommandReply),
  });
  const cams = new CameraModule({
    config,
    db,
    outbox: new Outbox(db, 'site-a', () => false),
    metrics: new Metrics(),
    changed: () => undefined,
  });
  await cams.start();
  cams.registerCommands(commands);
  current = { db, cams, commands, replies };
  return current;
}

async function stopModule(): Promise<void> {
  await current?.cams.stop();
  current?.db.close();
  current = undefined;
}

/** Sends the command as the central would and returns the gateway's reply. */
async function command(r: Running, args: Record<string, unknown>): Promise<CommandReply> {
  const cmd = {
    v: PROTOCOL_VERSION,
    id: mintId(),
    name: 'retention_policy',
    ts: new Date().toISOString(),
    args,
  };
  await r.commands.handle(commandTopic('site-a', 'retention_policy'), Buffer.from(JSON.stringify(cmd)));
  const reply = r.replies.find((x) => x.id === cmd.id);
  if (!reply) throw new Error('no reply');
  return reply;
}

/** A recorded segment (a small file and its index row) that ended `ageDays` ago. */
function segment(db: Db, name: string, ageDays: number): string {
  const endMs = Date.now() - ageDays * DAY;
  const day = new Date(endMs).toISOString().slice(0, 10);
  const path = join(recordings, 'cam-1', day, `${name}.mp4`);
  mkdirSync(join(recordings, 'cam-1', day), { recursive: true });
  writeFileSync(path, Buffer.alloc(1024));
  new SegmentIndex(db).add({ cameraId: 'cam-1', path, startMs: endMs - 10_000, endMs, bytes: 1024 });
  return path;
}

const policyDays = (r: Running) => r.cams.inventory().find((c) => c.deviceId === 'cam-1')?.policyDays;
const indexed = (r: Running, path: string) => new SegmentIndex(r.db).byPath(path) !== undefined;

afterEach(stopModule);
afterAll(() => dir.cleanup());

describe('retention policy command at the gateway', () => {
  it('applies an accepted policy to the sweeper and the inventory, and keeps it across a restart', async () => {
    let r = await startModule();
    expect(policyDays(r)).toBe(30);

    const accepted = await command(r, { days: 45 });
    expect(accepted).toMatchObject({ ok: true, result: { retentionDays: 45 } });
    expect(policyDays(r)).toBe(45);

    // the sweeper's next pass works to 45 days: 35-day-old footage stays, 50-day-old goes
    const young = segment(r.db, 'young', 35);
    const old = segment(r.db, 'old', 50);
    const recent = segment(r.db, 'recent', 0.01);
    const pass = await r.cams.retentionPass();
    expect(pass?.deleted).toBe(1);
    expect(existsSync(old)).toBe(false);
    expect(indexed(r, old)).toBe(false);
    for (const p of [young, recent]) {
      expect(existsSync(p)).toBe(true);
      expect(indexed(r, p)).toBe(true);
    }

    // a refused command changes nothing, in memory or on disk
    const refused = await command(r, { days: 7 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'RETENTION_BELOW_FLOOR' } });
    expect(policyDays(r)).toBe(45);

    // restart on the same database (config still says 30): the start pass keeps to 45 days
    await stopModule();
    const db = openDatabase(dbPath);
    const forty = segment(db, 'forty', 40);
    db.close();
    r = await startModule();
    expect(policyDays(r)).toBe(45);
    for (const p of [young, forty, recent]) {
      expect(existsSync(p)).toBe(true);
      expect(indexed(r, p)).toBe(true);
    }
    expect((await r.cams.retentionPass())?.deleted).toBe(0);

    // a later command to 31 days applies and is what the next restart starts from
    expect(await command(r, { days: 31 })).toMatchObject({ ok: true, result: { retentionDays: 31 } });
    await stopModule();
    r = await startModule();
    expect(policyDays(r)).toBe(31);
    expect(existsSync(young)).toBe(false);
    expect(existsSync(forty)).toBe(false);
    expect(existsSync(recent)).toBe(true);
  }, 30_000);
});
