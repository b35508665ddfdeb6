import { decodeEnvelope, KINDS, parseTopic } from '../../protocol/index.js';
import type { Step } from './types.js';

/** Size, JSON, schema; then the envelope must belong to the topic's site and channel. */
export const validateStep: Step = {
  name: 'validate',
  run(ctx) {
    const decoded = decodeEnvelope(ctx.payload);
    if (!decoded.ok) return { status: 'rejected', code: decoded.code, message: decoded.message };
    const env = decoded.value;
    const topic = parseTopic(ctx.topic);
    if (topic?.type !== 'channel') {
      return {
        status: 'rejected',
        code: 'TOPIC_INVALID',
        message: `topic '${ctx.topic}' carries no envelopes`,
      };
    }
    if (env.siteId !== topic.siteId || env.siteId !== ctx.gateway.siteId) {
      return {
        status: 'rejected',
        code: 'SITE_MISMATCH',
        message: `/siteId: '${env.siteId}' does not match the topic's site '${topic.siteId}' of gateway ${ctx.gateway.gatewayId}`,
      };
    }
    const expected = KINDS[env.kind].channel;
    if (expected !== topic.channel) {
      return {
        status: 'rejected',
        code: 'CHANNEL_MISMATCH',
        message: `/kind: '${env.kind}' belongs on '${expected}', not '${topic.channel}'`,
      };
    }
    ctx.envelope = env;
    return undefined;
  },
};
