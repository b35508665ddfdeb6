import { logger } from '../lib/logger.js';
import {
  type CommandReply,
  commandReplyTopic,
  decodeCommand,
  PROTOCOL_VERSION,
  parseTopic,
} from '../protocol/index.js';

const log = logger('gateway:commands');

export type CommandHandler = (args: Record<string, unknown>) => Promise<Record<string, unknown>>;

/**
 * Central → gateway commands. Each command is answered on its reply topic
 * with the command's id; an unknown command or a failing handler is answered
 * with an error, never left hanging.
 */
export class CommandRouter {
  private readonly handlers = new Map<string, CommandHandler>();

  constructor(
    private readonly deps: {
      siteId: string;
      reply: (topic: string, payload: Buffer) => void;
    },
  ) {
    this.register('ping', async () => ({ pong: true, at: new Date().toISOString() }));
  }

  register(name: string, handler: CommandHandler): void {
    this.handlers.set(name, handler);
  }

  async handle(topic: string, payload: Buffer): Promise<void> {
    const t = parseTopic(topic);
    if (t?.type !== 'command' || t.siteId !== this.deps.siteId) return;
    const d = decodeCommand(payload);
    if (!d.ok) {
      log.warn({ topic, reason: d.message }, 'malformed command ignored');
      return;
    }
    const cmd = d.value;
    const send = (r: Omit<CommandReply, 'v' | 'id' | 'ts'>) =>
      this.deps.reply(
        commandReplyTopic(this.deps.siteId, t.command),
        Buffer.from(JSON.stringify({ v: PROTOCOL_VERSION, id: cmd.id, ts: new Date().toISOString(), ...r })),
      );
    const handler = this.handlers.get(cmd.name);
    if (!handler || cmd.name !== t.command) {
      send({
        ok: false,
        error: { code: 'COMMAND_UNKNOWN', message: `this gateway has no command '${cmd.name}'` },
      });
      return;
    }
    try {
      send({ ok: true, result: await handler(cmd.args) });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      send({ ok: false, error: { code: e.code ?? 'COMMAND_FAILED', message: e.message ?? String(err) } });
    }
  }
}
