import { existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaStore } from '../../../central/media/store.js';
import { tempDir } from '../../../lib/testkit/procs.js';

describe('MediaStore', () => {
  const dirs: Array<{ cleanup(): void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });

  const open = () => {
    const dir = tempDir('cw-media-store-');
    dirs.push(dir);
    const store = new MediaStore(dir.path);
    store.open();
    return store;
  };
  const rec = (id: string, createdAt: number) => ({
    id,
    siteId: 'site-a',
    cameraId: 'cam-1',
    kind: 'clip' as const,
    eventId: null,
    eventKind: null,
    fromMs: createdAt,
    toMs: createdAt + 1000,
    contentType: 'video/mp4',
    bytes: 3,
    gatewayId: 'gw-a',
    createdAt,
  });

  it('indexes an upload once and prunes only what is older than the cut-off, files first', async () => {
    const store = open();
    mkdirSync(store.siteDir('site-a'), { recursive: true });
    for (const [id, at] of [
      ['01900000-0000-7000-8000-00000000000a', 1000],
      ['01900000-0000-7000-8000-00000000000b', 2000],
      ['01900000-0000-7000-8000-00000000000c', 9000],
    ] as const) {
      expect(store.add(rec(id, at))).toBe(true);
      writeFileSync(store.fileOf(rec(id, at)), 'mp4');
    }
    expect(store.add(rec('01900000-0000-7000-8000-00000000000a', 1000))).toBe(false);
    store.logAccess({
      at: 1,
      actor: 'user:a',
      role: 'admin',
      action: 'view',
      siteId: 'site-a',
      cameraId: 'cam-1',
      mediaId: '01900000-0000-7000-8000-00000000000a',
      detail: null,
      ip: null,
    });
    // a file already gone does not stop the pruning
    const gone = rec('01900000-0000-7000-8000-00000000000b', 2000);
    unlinkSync(store.fileOf(gone));
    expect(await store.prune(5000)).toBe(2);
    expect(store.list({}).map((m) => m.id)).toEqual(['01900000-0000-7000-8000-00000000000c']);
    expect(existsSync(store.fileOf(rec('01900000-0000-7000-8000-00000000000a', 1000)))).toBe(false);
    expect(existsSync(store.fileOf(rec('01900000-0000-7000-8000-00000000000c', 9000)))).toBe(true);
    // the access log keeps the record of who watched what
    expect(store.accessLog({})).toHaveLength(1);
    store.close();
  });

  it('keeps the access log append-only', () => {
    const store = open();
    store.logAccess({
      at: 1,
      actor: 'user:a',
      role: 'admin',
      action: 'download',
      siteId: 'site-a',
      cameraId: null,
      mediaId: null,
      detail: null,
      ip: '127.0.0.1',
    });
    const db = (store as unknown as { db: { prepare(s: string): { run(): void } } }).db;
    expect(() => db.prepare("UPDATE media_access SET actor = 'x'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM media_access').run()).toThrow(/append-only/);
    store.close();
  });
});
