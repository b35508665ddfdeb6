export { createChannel, createChannels, formatOptions } from './channels.js';
export { type ChannelConfig, NotifyConfig, parseNotifyConfig, RouteConfig } from './config.js';
export { DingTalkChannel, dingtalkSign } from './dingtalk.js';
export { type DispatcherDeps, NotificationDispatcher, type Target } from './dispatcher.js';
export { EmailChannel } from './email.js';
export { type FormatOptions, headline, type Rendered, renderMessage } from './format.js';
export { ChannelLane, type LanePolicy } from './lane.js';
export {
  type LogEntry,
  type LogQuery,
  type LogStatus,
  MemoryNotificationLog,
  type NotificationLog,
} from './log.js';
export { TokenBucket } from './rate-limit.js';
export {
  onSafetyNotices,
  SAFETY_EVENTS,
  type SafetyEvent,
  type SafetySubject,
  safetyNotification,
} from './safety.js';
export { HttpJsonSmsProvider, SmsChannel, type SmsProvider } from './sms.js';
export { buildMessage, dotStuff, encodeHeaderWord, type SmtpOptions, sendMail } from './smtp.js';
export { SqliteNotificationLog } from './sqlite-log.js';
export {
  type AlertChange,
  type Channel,
  dedupKeyOf,
  isRetryable,
  type Message,
  type Notification,
  NotifyError,
} from './types.js';
export { verifyWebhookSignature, WebhookChannel, webhookSignature } from './webhook.js';
export { WeComChannel } from './wecom.js';
