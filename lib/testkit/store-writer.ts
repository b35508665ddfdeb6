/**
 * A child process for the crash test of the background checkpoint: stores
 * events in the SQLite central store as the ingest does (batches through
 * `insertBatch`), forever, and reports after each batch is durable how many
 * are, with the checkpoint worker's figures. The parent SIGKILLs it.
 *
 * argv: <central db path> <batch size>
 * out:  { committed, lastId, checkpoints: { runs, frames, backfilled, errors } } after each batch
 */
import { buildEnvelope } from '../../protocol/index.js';
import { openSqliteCentralStore } from '../../storage/sqlite/central-store.js';

async function main(): Promise<void> {
  const [path, size] = process.argv.slice(2);
  if (!path || !size || !process.send) throw new Error('usage: store-writer <db> <batch size>');
  const store = openSqliteCentralStore(path);
  let committed = 0;
  for (let batch = 0; ; batch++) {
    const items = Array.from({ length: Number(size) }, (_, i) => ({
      envelope: buildEnvelope({
        kind: 'attendance',
        siteId: `site-${i % 16}`,
        deviceId: `badge-${i % 4}`,
        seq: batch * Number(size) + i,
        data: { source: 'badge', action: 'check_in', operatorId: `op-${i % 7}`, room: 'fcr' },
      }),
      gatewayId: 'gw-1',
      receivedAt: Date.now(),
    }));
    const fresh = await store.events.insertBatch(items);
    committed += fresh.filter(Boolean).length;
    process.send({ committed, lastId: items.at(-1)!.envelope.id, checkpoints: { ...store.checkpoints } });
    await new Promise((r) => setImmediate(r));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
