/**
 * ONVIF PullPoint events (event service ver10, WS-BaseNotification): motion
 * and tampering (global scene change) as property events of the one video
 * source. Subscriptions are bounded in number and queue length.
 */
import { randomUUID } from 'node:crypto';
import { VIDEO_SOURCE_TOKEN } from './services.js';

export type SimEventKind = 'motion' | 'tamper';

export const TOPICS: Record<SimEventKind, string> = {
  motion: 'tns1:VideoSource/MotionAlarm',
  tamper: 'tns1:VideoSource/GlobalSceneChange/ImagingService',
};

interface Notification {
  kind: SimEventKind;
  at: Date;
  operation: 'Initialized' | 'Changed';
  state: boolean;
}

interface Subscription {
  id: string;
  terminationAt: number;
  queue: Notification[];
  wake: (() => void) | undefined;
}

export interface PullPointOptions {
  maxSubscriptions?: number;
  maxQueue?: number;
  /** Upper bound on how long a PullMessages request is held open. Default 60 s. */
  maxWaitMs?: number;
  /** Send the current state of every topic when a subscription starts. Default true. */
  initialState?: boolean;
}

export interface PullResult {
  messages: Notification[];
  currentTime: Date;
  terminationTime: Date;
}

export class PullPointManager {
  private readonly subs = new Map<string, Subscription>();
  private readonly state: Record<SimEventKind, boolean> = { motion: false, tamper: false };
  private readonly opts: Required<PullPointOptions>;

  constructor(options: PullPointOptions = {}) {
    this.opts = {
      maxSubscriptions: options.maxSubscriptions ?? 16,
      maxQueue: options.maxQueue ?? 100,
      maxWaitMs: options.maxWaitMs ?? 60_000,
      initialState: options.initialState ?? true,
    };
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** A new subscription, or undefined when the limit is reached. */
  create(terminationMs: number): { id: string; currentTime: Date; terminationTime: Date } | undefined {
    this.expire();
    if (this.subs.size >= this.opts.maxSubscriptions) return undefined;
    const now = Date.now();
    const sub: Subscription = {
      id: randomUUID(),
      terminationAt: now + terminationMs,
      queue: [],
      wake: undefined,
    };
    if (this.opts.initialState) {
      for (const kind of Object.keys(TOPICS) as SimEventKind[]) {
        sub.queue.push({ kind, at: new Date(now), operation: 'Initialized', state: this.state[kind] });
      }
    }
    this.subs.set(sub.id, sub);
    return { id: sub.id, currentTime: new Date(now), terminationTime: new Date(sub.terminationAt) };
  }

  /** Changes a property state and queues the change for every subscription. */
  publish(kind: SimEventKind, state: boolean): void {
    this.state[kind] = state;
    const n: Notification = { kind, at: new Date(), operation: 'Changed', state };
    this.expire();
    for (const sub of this.subs.values()) {
      sub.queue.push(n);
      if (sub.queue.length > this.opts.maxQueue) sub.queue.shift();
      sub.wake?.();
    }
  }

  /** Waits up to `timeoutMs` for messages. Undefined when the subscription is unknown or expired. */
  async pull(id: string, timeoutMs: number, limit: number): Promise<PullResult | undefined> {
    this.expire();
    const found = this.subs.get(id);
    if (!found) return undefined;
    const sub: Subscription = found;
    if (sub.queue.length === 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(timeoutMs, this.opts.maxWaitMs));
        function done() {
          clearTimeout(timer);
          sub.wake = undefined;
          resolve();
        }
        sub.wake?.();
        sub.wake = done;
      });
    }
    const messages = sub.queue.splice(0, Math.max(1, limit));
    return { messages, currentTime: new Date(), terminationTime: new Date(sub.terminationAt) };
  }

  renew(id: string, terminationMs: number): { currentTime: Date; terminationTime: Date } | undefined {
    this.expire();
    const sub = this.subs.get(id);
    if (!sub) return undefined;
    const now = Date.now();
    sub.terminationAt = now + terminationMs;
    return { currentTime: new Date(now), terminationTime: new Date(sub.terminationAt) };
  }

  unsubscribe(id: string): boolean {
    const sub = this.subs.get(id);
    if (!sub) return false;
    this.subs.delete(id);
    sub.wake?.();
    return true;
  }

  /** Ends every subscription and releases held PullMessages requests. */
  closeAll(): void {
    for (const sub of this.subs.values()) sub.wake?.();
    this.subs.clear();
  }

  private expire(): void {
    const now = Date.now();
    for (const [id, sub] of this.subs) {
      if (sub.terminationAt <= now) {
        sub.wake?.();
        this.subs.delete(id);
      }
    }
  }
}

function notificationXml(n: Notification): string {
  return (
    '<wsnt:NotificationMessage>' +
    `<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${TOPICS[n.kind]}</wsnt:Topic>` +
    '<wsnt:Message>' +
    `<tt:Message UtcTime="${n.at.toISOString()}" PropertyOperation="${n.operation}">` +
    `<tt:Source><tt:SimpleItem Name="Source" Value="${VIDEO_SOURCE_TOKEN}"/></tt:Source>` +
    `<tt:Data><tt:SimpleItem Name="State" Value="${n.state}"/></tt:Data>` +
    '</tt:Message></wsnt:Message></wsnt:NotificationMessage>'
  );
}

export function createPullPointResponse(address: string, currentTime: Date, terminationTime: Date): string {
  return (
    '<tev:CreatePullPointSubscriptionResponse>' +
    `<tev:SubscriptionReference><wsa:Address>${address}</wsa:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${currentTime.toISOString()}</wsnt:CurrentTime>` +
    `<wsnt:TerminationTime>${terminationTime.toISOString()}</wsnt:TerminationTime>` +
    '</tev:CreatePullPointSubscriptionResponse>'
  );
}

export function pullMessagesResponse(r: PullResult): string {
  return (
    '<tev:PullMessagesResponse>' +
    `<tev:CurrentTime>${r.currentTime.toISOString()}</tev:CurrentTime>` +
    `<tev:TerminationTime>${r.terminationTime.toISOString()}</tev:TerminationTime>` +
    r.messages.map(notificationXml).join('') +
    '</tev:PullMessagesResponse>'
  );
}

export function renewResponse(currentTime: Date, terminationTime: Date): string {
  return (
    '<wsnt:RenewResponse>' +
    `<wsnt:TerminationTime>${terminationTime.toISOString()}</wsnt:TerminationTime>` +
    `<wsnt:CurrentTime>${currentTime.toISOString()}</wsnt:CurrentTime>` +
    '</wsnt:RenewResponse>'
  );
}

export function eventPropertiesResponse(): string {
  const item = (name: string) =>
    `<tt:MessageDescription IsProperty="true"><tt:Source><tt:SimpleItemDescription Name="Source" Type="tt:ReferenceToken"/></tt:Source>` +
    `<tt:Data><tt:SimpleItemDescription Name="${name}" Type="xs:boolean"/></tt:Data></tt:MessageDescription>`;
  return (
    '<tev:GetEventPropertiesResponse>' +
    '<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>' +
    '<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>' +
    '<wstop:TopicSet xmlns:wstop="http://docs.oasis-open.org/wsn/t-1"><tns1:VideoSource wstop:topic="false">' +
    `<MotionAlarm wstop:topic="true">${item('State')}</MotionAlarm>` +
    `<GlobalSceneChange wstop:topic="false"><ImagingService wstop:topic="true">${item('State')}</ImagingService></GlobalSceneChange>` +
    '</tns1:VideoSource></wstop:TopicSet>' +
    '<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet</wsnt:TopicExpressionDialect>' +
    '<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>' +
    '<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>' +
    '</tev:GetEventPropertiesResponse>'
  );
}
