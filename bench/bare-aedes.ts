/**
 * A bare aedes broker in its own process, no hooks (no authentication, no
 * authorization, no persistence beyond aedes' in-memory defaults): the
 * baseline the embedded central is compared with. Prints `bare aedes
 * listening <port>` and runs until killed.
 *
 *   node dist/bench/bare-aedes.js [port]
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const aedes = await Aedes.createBroker();
const server = createServer(aedes.handle);
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`bare aedes listening ${typeof addr === 'object' && addr ? addr.port : '?'}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  aedes.close(() => process.exit(0));
});
