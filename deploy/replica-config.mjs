// Copies a central.yaml, appending the replica's index to mqtt.external.clientId.
// Replicas must not share a client id (the broker would drop one for the other)
// and each must keep its own across restarts, since the broker holds its
// unacknowledged messages in that session. Compose names replicas
// <project>-<service>-<n>, and Docker's DNS answers the container's address with
// that name; without it the container's host name is used.
import { reverse } from 'node:dns/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { parse, stringify } from 'yaml';

const [src, out] = process.argv.slice(2);
if (!src || !out) throw new Error('usage: replica-config.mjs <central.yaml> <out.yaml>');
const config = parse(readFileSync(src, 'utf8')) ?? {};
const ext = config.mqtt?.external;
if (ext?.clientId) ext.clientId = `${ext.clientId}-${await replicaIndex()}`.slice(0, 64);
writeFileSync(out, stringify(config));

async function replicaIndex() {
  const ip = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  try {
    for (const name of ip ? await reverse(ip) : []) {
      const m = /-(\d+)(\.|$)/.exec(name);
      if (m) return m[1];
    }
  } catch {
    // no reverse record: fall back to the host name
  }
  return hostname();
}
