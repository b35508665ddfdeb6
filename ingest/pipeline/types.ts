import type { Envelope } from '../../protocol/index.js';
import type { GatewayIdentity } from '../acl.js';

export interface IngestContext {
  topic: string;
  payload: Buffer;
  gateway: GatewayIdentity;
  receivedAt: number;
  envelope?: Envelope;
}

export type Outcome =
  | { status: 'accepted'; envelope: Envelope }
  | { status: 'duplicate'; envelope: Envelope; where: 'memory' | 'store' }
  | { status: 'rejected'; code: string; message: string };

/** A step either passes the context on (undefined) or ends the pipeline with an outcome. */
export interface Step {
  name: string;
  run(ctx: IngestContext): Outcome | undefined | Promise<Outcome | undefined>;
}
