/**
 * The baseline of the fan-out benchmark (bench/alerts-fanout.ts), run as its
 * own process like the central: a bare `ws` server on loopback. Clients on
 * `/` get a hello and then every broadcast; a message on `/ctl` is sent as
 * is to every client, with the same per-client checks as the central's
 * WebSocket hub (socket open, send buffer below 8 MiB). Prints
 * `listening <port>` when ready; SIGTERM stops it.
 */
import { type WebSocket, WebSocketServer } from 'ws';

const MAX_BUFFERED = 8 * 1024 * 1024;
const subs = new Set<WebSocket>();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });

wss.on('connection', (ws, req) => {
  ws.on('error', () => ws.terminate());
  if (req.url === '/ctl') {
    ws.on('message', (data) => {
      const msg = data.toString();
      for (const s of subs) {
        if (s.readyState !== s.OPEN) continue;
        if (s.bufferedAmount > MAX_BUFFERED) {
          s.terminate();
          continue;
        }
        s.send(msg);
      }
    });
    return;
  }
  subs.add(ws);
  ws.on('close', () => subs.delete(ws));
  ws.send(JSON.stringify({ type: 'hello', at: Date.now() }));
});

wss.on('listening', () => {
  const addr = wss.address();
  console.log(`listening ${typeof addr === 'object' && addr ? addr.port : addr}`);
});

process.on('SIGTERM', () => {
  for (const s of subs) s.terminate();
  wss.close(() => process.exit(0));
});
