import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ButtonAdapter } from '../../../gateway/adapters/buttons.js';
import { GatewayConfig } from '../../../gateway/config.js';
import { Outbox } from '../../../gateway/outbox.js';
import { validateConfig } from '../../../lib/config.js';
import { Metrics } from '../../../lib/metrics.js';
import { decodeEnvelope } from '../../../protocol/index.js';
import { type Db, openDatabase } from '../../../storage/sqlite/open.js';
import { tempDir } from '../../helpers/procs.js';

describe('call button adapter', () => {
  let dir: { path: string; cleanup: () => void };
  let db: Db;
  let outbox: Outbox;
  let metrics: Metrics;
  let adapter: ButtonAdapter;

  beforeEach(() => {
    dir = tempDir('cw-btn-');
    db = openDatabase(`${dir.path}/gw.db`, { synchronous: 'NORMAL' });
    outbox = new Outbox(db, 'site-a');
    metrics = new Metrics();
    const config = validateConfig(
      GatewayConfig,
      {
        siteId: 'site-a',
        gatewayId: 'gw',
        dataDir: dir.path,
        central: { url: 'mqtt://127.0.0.1:1' },
        buttons: {
          devices: [
            { deviceId: 'btn-1', room: '101' },
            { deviceId: 'btn-2', topic: 'nursecall/bed-2' },
          ],
        },
      },
      'test',
    );
    adapter = new ButtonAdapter({ config: config.buttons, outbox, metrics });
  });
  afterEach(() => {
    db.close();
    dir.cleanup();
  });

  const queued = () => outbox.peek(100, new Set()).map((e) => JSON.parse(e.payload.toString()));
  const send = (topic: string, payload: unknown) =>
    adapter.handle(topic, Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)));

  it('maps presses, bedside cancels, low battery (once per crossing) and availability', async () => {
    await send('zigbee2mqtt/btn-1', { action: 'single', battery: 90 });
    await send('zigbee2mqtt/btn-1', { action: 'double', battery: 90 });
    await send('zigbee2mqtt/btn-1', { battery: 15 });
    await send('zigbee2mqtt/btn-1', { battery: 14 });
    await send('zigbee2mqtt/btn-1', { battery: 80 });
    await send('zigbee2mqtt/btn-1', { battery: 10 });
    await send('zigbee2mqtt/btn-1/availability', { state: 'online' });
    await send('zigbee2mqtt/btn-1/availability', 'offline');
    await send('zigbee2mqtt/btn-1/availability', { state: 'offline' });
    await send('zigbee2mqtt/btn-1/availability', { state: 'online' });
    await send('nursecall/bed-2', { action: 'sos' });
    const q = queued();
    expect(q.map((e) => `${e.deviceId}:${e.data.action}`)).toEqual([
      'btn-1:pressed',
      'btn-1:cancelled',
      'btn-1:battery_low',
      'btn-1:battery_low',
      'btn-1:unavailable',
      'btn-1:available',
      'btn-2:pressed',
    ]);
    expect(q[0].data).toMatchObject({ room: '101', raw: 'single', battery: 90 });
    for (const e of outbox.peek(100, new Set())) expect(decodeEnvelope(e.payload).ok).toBe(true);
  });

  it('drops unknown devices and malformed payloads with a counted reason, queueing nothing', async () => {
    await send('zigbee2mqtt/btn-999', { action: 'single' });
    await send('zigbee2mqtt/btn-1', '{not json');
    await send('zigbee2mqtt/btn-1', [1, 2]);
    await send('zigbee2mqtt/btn-1', { action: 'triple_backflip' });
    await send('zigbee2mqtt/btn-1', { action: 42 });
    await send('zigbee2mqtt/btn-1', { battery: 'full' });
    await send('zigbee2mqtt/btn-1/availability', 'maybe');
    expect(queued()).toEqual([]);
    const m = await metrics.text();
    for (const code of [
      'DEVICE_UNKNOWN',
      'PAYLOAD_NOT_JSON',
      'PAYLOAD_INVALID',
      'ACTION_UNKNOWN',
      'ACTION_INVALID',
      'BATTERY_INVALID',
      'AVAILABILITY_INVALID',
    ]) {
      expect(m, code).toContain(`code="${code}"`);
    }
  });

  it('never throws and only ever queues valid envelopes, whatever the device sends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'zigbee2mqtt/btn-1',
          'zigbee2mqtt/btn-1/availability',
          'nursecall/bed-2',
          'zigbee2mqtt/x',
        ),
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.record({ action: fc.string(), battery: fc.double() }).map((v) => JSON.stringify(v)),
        ),
        async (topic, payload) => {
          await adapter.handle(topic, Buffer.from(payload));
        },
      ),
      { numRuns: 300 },
    );
    for (const e of outbox.peek(10_000, new Set())) expect(decodeEnvelope(e.payload).ok).toBe(true);
  });
});
