import type { CentralBus } from '../central/bus.js';
import { CarewatchError } from '../lib/errors.js';
import { logger } from '../lib/logger.js';
import { type Command, mintId, PROTOCOL_VERSION } from '../protocol/index.js';
import type { CommandRecord, CommandRepo } from '../storage/types.js';

const log = logger('central:commands');

/**
 * Central → gateway commands with a record: each command is stored before it
 * is sent, and its reply (or its timeout) is stored once. Commands to an
 * offline gateway are queued by the broker's persistent session.
 */
export class CommandService {
  private readonly waiting = new Map<string, (r: CommandRecord) => void>();
  private off: (() => void) | undefined;

  constructor(
    private readonly deps: {
      repo: CommandRepo;
      bus: CentralBus;
      publish: (siteId: string, cmd: Command) => Promise<void>;
    },
  ) {}

  start(): void {
    this.off = this.deps.bus.on('command.reply', async ({ siteId, reply }) => {
      const rec = await this.deps.repo.get(reply.id);
      if (!rec || rec.siteId !== siteId) {
        log.warn({ site: siteId, id: reply.id }, 'reply to an unknown command ignored');
        return;
      }
      const body = {
        ok: reply.ok,
        ...(reply.result ? { result: reply.result } : {}),
        ...(reply.error ? { error: reply.error } : {}),
      };
      await this.deps.repo.complete(reply.id, reply.ok ? 'ok' : 'failed', Date.now(), body);
      const done = await this.deps.repo.get(reply.id);
      if (done) this.waiting.get(reply.id)?.(done);
    });
  }

  stop(): void {
    this.off?.();
  }

  /** Sends and waits up to `timeoutMs` for the reply; the record says 'timeout' if none came. */
  async send(
    siteId: string,
    name: string,
    args: Record<string, unknown>,
    opts: { actor: string; timeoutMs: number },
  ): Promise<CommandRecord> {
    const id = mintId();
    const now = Date.now();
    const rec: CommandRecord = {
      id,
      siteId,
      name,
      args,
      actor: opts.actor,
      sentAt: now,
      status: 'sent',
      repliedAt: null,
      reply: null,
    };
    await this.deps.repo.insert(rec);
    const answered = new Promise<CommandRecord>((resolve) => this.waiting.set(id, resolve));
    const cmd: Command = { v: PROTOCOL_VERSION, id, name, ts: new Date(now).toISOString(), args };
    try {
      await this.deps.publish(siteId, cmd);
    } catch (err) {
      this.waiting.delete(id);
      await this.deps.repo.complete(id, 'failed', Date.now(), {
        ok: false,
        error: { code: 'PUBLISH_FAILED', message: String(err) },
      });
      throw new CarewatchError(
        'COMMAND_NOT_SENT',
        `command ${name} to ${siteId} was not sent: ${String(err)}`,
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((r) => {
      timer = setTimeout(() => r(null), opts.timeoutMs);
    });
    const result = await Promise.race([answered, timedOut]);
    clearTimeout(timer);
    this.waiting.delete(id);
    if (result) return result;
    await this.deps.repo.complete(id, 'timeout', Date.now(), null);
    return (await this.deps.repo.get(id))!;
  }
}
