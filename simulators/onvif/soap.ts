/**
 * SOAP 1.2 plumbing for the ONVIF simulator: envelope, faults, and a tolerant
 * reader for the few request fields the simulator needs (any namespace prefix).
 */

export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  tt: 'http://www.onvif.org/ver10/schema',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tns1: 'http://www.onvif.org/ver10/topics',
  ter: 'http://www.onvif.org/ver10/error',
  xs: 'http://www.w3.org/2001/XMLSchema',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
} as const;

const NS_DECL = Object.entries(NS)
  .map(([p, uri]) => `xmlns:${p}="${uri}"`)
  .join(' ');

export function xmlEscape(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

function xmlUnescape(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, '&');
}

export function envelope(body: string, header = ''): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope ${NS_DECL}>` +
    (header ? `<s:Header>${header}</s:Header>` : '') +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

export interface SoapFault {
  /** HTTP status to send the fault with. */
  status: number;
  xml: string;
}

/** A SOAP 1.2 fault; `subcodes` are ONVIF `ter:` codes, outermost first. */
export function fault(
  code: 'Sender' | 'Receiver',
  subcodes: string[],
  reason: string,
  status?: number,
): SoapFault {
  let sub = '';
  for (const c of [...subcodes].reverse()) sub = `<s:Subcode><s:Value>${c}</s:Value>${sub}</s:Subcode>`;
  const body =
    '<s:Fault>' +
    `<s:Code><s:Value>s:${code}</s:Value>${sub}</s:Code>` +
    `<s:Reason><s:Text xml:lang="en">${xmlEscape(reason)}</s:Text></s:Reason>` +
    '</s:Fault>';
  return { status: status ?? (code === 'Sender' ? 400 : 500), xml: envelope(body) };
}

export const notAuthorized = (): SoapFault =>
  fault('Sender', ['ter:NotAuthorized'], 'Sender not Authorized', 400);

export const actionNotSupported = (op: string): SoapFault =>
  fault('Receiver', ['ter:ActionNotSupported'], `Optional action not implemented: ${op}`, 500);

export const invalidArg = (sub: string, reason: string): SoapFault =>
  fault('Sender', ['ter:InvalidArgVal', `ter:${sub}`], reason, 400);

/** Local name of the first element inside the SOAP Body, e.g. `GetProfiles`. */
export function operationOf(xml: string): string | undefined {
  const body = /<(?:[\w.-]+:)?Body\b[^>]*>/.exec(xml);
  if (!body) return undefined;
  const rest = xml.slice(body.index + body[0].length);
  const first = /<(?:[\w.-]+:)?([A-Za-z_][\w.-]*)[\s/>]/.exec(rest);
  return first?.[1];
}

/** Text of the first element with this local name, whatever its prefix. */
export function textOf(xml: string, local: string): string | undefined {
  const re = new RegExp(`<(?:[\\w.-]+:)?${local}\\b[^>]*?(?:/>|>([\\s\\S]*?)</(?:[\\w.-]+:)?${local}\\s*>)`);
  const m = re.exec(xml);
  if (!m) return undefined;
  return xmlUnescape((m[1] ?? '').trim());
}

/** Value of an attribute on the first element with this local name. */
export function attrOf(xml: string, local: string, attr: string): string | undefined {
  const re = new RegExp(`<(?:[\\w.-]+:)?${local}\\b([^>]*)>`);
  const m = re.exec(xml);
  if (!m) return undefined;
  const a = new RegExp(`(?:^|\\s)(?:[\\w.-]+:)?${attr}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(m[1] ?? '');
  return a ? xmlUnescape(a[2] ?? a[3] ?? '') : undefined;
}

/** The SOAP Header block, or '' when there is none. */
export function headerOf(xml: string): string {
  const m = /<(?:[\w.-]+:)?Header\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?Header\s*>/.exec(xml);
  return m?.[1] ?? '';
}

/**
 * ISO 8601 duration (`PT1M`, `PT60S`, `P1DT2H`) in ms, or an absolute
 * xs:dateTime converted to ms from `now`. Undefined when unparseable.
 */
export function parseDurationMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  const m =
    /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(v);
  if (m && v !== 'P' && v !== 'PT') {
    const [d, h, min, s] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0)) as [
      number,
      number,
      number,
      number,
    ];
    return Math.round(((d * 24 + h) * 60 + min) * 60_000 + s * 1000);
  }
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t - now;
}
