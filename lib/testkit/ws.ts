import WebSocket from 'ws';

export interface AlertMsg {
  type: 'snapshot' | 'alert';
  change?: string;
  alert?: {
    id: string;
    siteId: string;
    source: string;
    type: string;
    state: string;
    severity: string;
    count: number;
    resolvedBy: string | null;
    escalationLevel: number;
  };
  alerts?: Array<{ id: string }>;
}

/** A supervisor WebSocket client that records every message. */
export async function supervisorSocket(base: string, token: string) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/ws`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const messages: AlertMsg[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (d) => {
    messages.push(JSON.parse(d.toString()) as AlertMsg);
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  return {
    ws,
    messages,
    next(pred: (m: AlertMsg) => boolean, timeoutMs = 15_000): Promise<AlertMsg> {
      return new Promise((res, rej) => {
        let seen = 0;
        const check = () => {
          for (; seen < messages.length; seen++) {
            if (pred(messages[seen]!)) {
              waiters.splice(waiters.indexOf(check), 1);
              clearTimeout(t);
              res(messages[seen]!);
              return;
            }
          }
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          rej(
            new Error(
              `no matching WebSocket message in ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 2000)}`,
            ),
          );
        }, timeoutMs);
        waiters.push(check);
        check();
      });
    },
    close: () => ws.close(),
  };
}
