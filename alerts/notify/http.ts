import { NotifyError } from './types.js';

export interface HttpReply {
  status: number;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/**
 * Only scheme, host and port of a URL: safe for messages and logs (robots
 * carry tokens in the query, many webhooks in the path, some in user info).
 */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid url)';
  }
}

const RETRY_STATUS = new Set([408, 425, 429]);

/**
 * POSTs a JSON body. Network failures, timeouts, 408/425/429 and 5xx are
 * retryable `NotifyError`s; other non-2xx replies are not. Messages name the
 * URL without its query, so access tokens and keys never reach an error.
 */
export async function postJson(
  url: string,
  body: string,
  opts: { headers?: Record<string, string>; timeoutMs: number },
): Promise<HttpReply> {
  const where = safeUrl(url);
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    ...opts.headers,
  };
  let target = url;
  const u = URL.canParse(url) ? new URL(url) : null;
  if (u && (u.username || u.password)) {
    // fetch refuses credentials in URLs: send them as Basic authentication
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    u.username = '';
    u.password = '';
    target = u.toString();
  }
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(opts.timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new NotifyError('NOTIFY_TIMEOUT', `POST ${where}: no answer within ${opts.timeoutMs} ms`, true, {
        url: where,
      });
    }
    const code = e.cause?.code;
    throw new NotifyError(
      'NOTIFY_NETWORK',
      `POST ${where}: ${code ?? e.message}`,
      true,
      { url: where, ...(code ? { errno: code } : {}) },
      { cause: err },
    );
  }
  let text = '';
  try {
    text = await res.text();
  } catch {
    // the status is what counts; an unreadable body is treated as empty
  }
  if (res.status < 200 || res.status >= 300) {
    const retry = res.status >= 500 || RETRY_STATUS.has(res.status);
    throw new NotifyError(
      'NOTIFY_HTTP_STATUS',
      `POST ${where}: HTTP ${res.status}${text ? ` ${text.slice(0, 200)}` : ''}`,
      retry,
      { url: where, status: res.status },
    );
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/**
 * Checks the `{errcode, errmsg}` reply of DingTalk and WeCom robots:
 * errcode 0 is success; `retryable` codes (throttling, "system busy") are
 * worth another attempt, anything else is not.
 */
export function checkErrcode(reply: HttpReply, where: string, retryable: ReadonlySet<number>): void {
  const j = reply.json as { errcode?: unknown; errmsg?: unknown } | undefined;
  if (!j || typeof j !== 'object' || typeof j.errcode !== 'number') {
    throw new NotifyError('NOTIFY_REJECTED', `${where}: unexpected reply ${reply.text.slice(0, 200)}`, true, {
      url: where,
    });
  }
  if (j.errcode !== 0) {
    throw new NotifyError(
      'NOTIFY_REJECTED',
      `${where}: errcode ${j.errcode} ${String(j.errmsg ?? '')}`.trim(),
      retryable.has(j.errcode),
      { url: where, errcode: j.errcode },
    );
  }
}
