import type { Clock } from '../../lib/clock.js';
import { logger } from '../../lib/logger.js';
import { type FormatOptions, renderMessage } from './format.js';
import { type SmtpOptions, sendMail } from './smtp.js';
import { type Channel, type Message, NotifyError } from './types.js';

const log = logger('alerts:notify');

/** E-mail over SMTP: subject is the headline, body the plain-text rendering. */
export interface EmailOptions {
  name: string;
  smtp: SmtpOptions;
  from: string;
  fromName?: string | undefined;
  /** Recipients when the route names none. */
  to: string[];
  format: FormatOptions;
  clock: Clock;
}

export class EmailChannel implements Channel {
  readonly name: string;

  constructor(private readonly opts: EmailOptions) {
    this.name = opts.name;
  }

  async send(m: Message): Promise<void> {
    const all = m.recipients.length > 0 ? m.recipients : this.opts.to;
    const to = all.filter((a) => !m.done.has(a));
    if (all.length === 0) {
      throw new NotifyError('NOTIFY_NO_RECIPIENTS', `channel ${this.name}: no e-mail recipients`, false);
    }
    if (to.length === 0) return;
    const r = renderMessage(m, this.opts.format);
    const result = await sendMail(this.opts.smtp, {
      from: this.opts.from,
      fromName: this.opts.fromName,
      to,
      subject: r.title,
      text: r.text,
      messageId: `${m.id}.${this.opts.clock.now()}@${this.opts.smtp.heloName}`,
      date: new Date(this.opts.clock.now()),
    });
    for (const a of result.accepted) m.done.add(a);
    const later = result.rejected.filter((x) => x.code < 500);
    for (const x of result.rejected.filter((y) => y.code >= 500)) {
      m.done.add(x.address); // refused for good: retrying cannot help
      log.warn({ channel: this.name, message: m.id, code: x.code }, 'e-mail recipient refused');
    }
    if (later.length > 0) {
      throw new NotifyError('NOTIFY_SMTP', `SMTP RCPT TO: ${later.length} recipient(s) deferred`, true, {
        deferred: later.map((x) => x.code),
      });
    }
  }
}
