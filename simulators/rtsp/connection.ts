/**
 * One RTSP control connection. It becomes either a publisher (ANNOUNCE, SETUP
 * mode=record, RECORD, then interleaved RTP in) or a reader (DESCRIBE, SETUP,
 * PLAY, then interleaved or UDP RTP out).
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import {
  formatResponse,
  parseTransport,
  type RtspRequest,
  RtspStreamParser,
  type TransportSpec,
  urlPath,
} from './protocol.js';
import { parseSdp, readerSdp, trackForUrl } from './sdp.js';
import type { ReaderSession, Stream } from './stream.js';

export interface ServerContext {
  log: Logger;
  /** Live streams by path (`/cam1`). */
  streams: Map<string, Stream>;
  /** A path that is declared or was published before: readers get 503 rather than 404. */
  isKnownPath(path: string): boolean;
  /** Streams whose path is the longest prefix of `path`. */
  findStream(path: string): Stream | undefined;
  createStream(path: string, sdpText: string, publisher: Socket): Stream;
  endStream(stream: Stream, reason: string): void;
  onRecord(stream: Stream): void;
  udpPorts(): [number, number] | undefined;
  sessionTimeoutSec: number;
}

/** Request handlers return `undefined` so that `return this.reply(...)` ends them. */
type Done = undefined;

const PUBLIC =
  'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER';

export class RtspConnection {
  private readonly parser = new RtspStreamParser();
  private sessionId: string | undefined;
  /** Set once this connection ANNOUNCEd a stream. */
  private published: { stream: Stream; base: string } | undefined;
  /** Set once this connection SET UP a track for reading. */
  private reader: { stream: Stream; session: ReaderSession } | undefined;
  lastRequestAt = Date.now();

  constructor(
    readonly socket: Socket,
    private readonly ctx: ServerContext,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => ctx.log.debug({ err: errorMessage(err) }, 'rtsp socket error'));
    socket.on('close', () => this.cleanup('socket closed'));
  }

  get isUdpReader(): boolean {
    return !!this.reader && [...this.reader.session.tracks.values()].some((t) => t.kind === 'udp');
  }

  private onData(chunk: Buffer): void {
    let messages: ReturnType<RtspStreamParser['push']>;
    try {
      messages = this.parser.push(chunk);
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err) }, 'bad RTSP input, closing');
      this.socket.end(formatResponse(400, undefined));
      return;
    }
    const now = Date.now();
    for (const m of messages) {
      if (m.kind === 'frame') {
        // From a publisher: media. From a reader: RTCP receiver reports (ignored).
        if (this.published) this.published.stream.relay(m.frame.channel, m.frame.payload, now);
        continue;
      }
      this.lastRequestAt = now;
      try {
        this.handle(m.request);
      } catch (err) {
        this.ctx.log.warn({ err: errorMessage(err), method: m.request.method }, 'RTSP request failed');
        this.reply(m.request, 500);
      }
    }
  }

  private reply(req: RtspRequest, status: number, headers: Record<string, string> = {}, body?: string): Done {
    if (!this.socket.destroyed) this.socket.write(formatResponse(status, req.headers.cseq, headers, body));
    return undefined;
  }

  private sessionHeader(): Record<string, string> {
    return this.sessionId ? { Session: `${this.sessionId};timeout=${this.ctx.sessionTimeoutSec}` } : {};
  }

  private handle(req: RtspRequest): Done {
    const given = req.headers.session?.split(';')[0]?.trim();
    if (given && req.method !== 'OPTIONS' && given !== this.sessionId) {
      this.reply(req, 454);
      return;
    }
    switch (req.method) {
      case 'OPTIONS':
        return this.reply(req, 200, { Public: PUBLIC });
      case 'DESCRIBE':
        return this.describe(req);
      case 'ANNOUNCE':
        return this.announce(req);
      case 'SETUP':
        return this.setup(req);
      case 'RECORD':
        return this.record(req);
      case 'PLAY':
        return this.play(req);
      case 'PAUSE':
        if (this.reader) this.reader.session.playing = false;
        return this.reply(req, 200, this.sessionHeader());
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return this.reply(req, 200, this.sessionHeader());
      case 'TEARDOWN':
        this.reply(req, 200, this.sessionHeader());
        this.cleanup('teardown');
        this.socket.end();
        return;
      default:
        return this.reply(req, 501);
    }
  }

  private unavailable(req: RtspRequest, path: string): Done {
    this.reply(req, this.ctx.isKnownPath(path) ? 503 : 404);
  }

  private describe(req: RtspRequest): Done {
    const path = urlPath(req.uri);
    const stream = this.ctx.streams.get(path);
    if (!stream?.recording) return this.unavailable(req, path);
    const base = `${req.uri.split(/[?#]/)[0]?.replace(/\/+$/, '')}/`;
    this.reply(
      req,
      200,
      { 'Content-Base': base, 'Content-Type': 'application/sdp' },
      readerSdp(stream.sdp, path.slice(1), stream.sdpVersion),
    );
  }

  private announce(req: RtspRequest): Done {
    if (this.published || this.reader) return this.reply(req, 455);
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (!type.startsWith('application/sdp')) return this.reply(req, 400);
    const path = urlPath(req.uri);
    if (path === '/' || path === '*') return this.reply(req, 400);
    let stream: Stream;
    try {
      parseSdp(req.body.toString('utf8'));
      stream = this.ctx.createStream(path, req.body.toString('utf8'), this.socket);
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err), path }, 'bad ANNOUNCE');
      return this.reply(req, 400);
    }
    this.published = { stream, base: req.uri.split(/[?#]/)[0] ?? req.uri };
    this.reply(req, 200);
  }

  private newSession(): void {
    this.sessionId ??= randomBytes(8).toString('hex').toUpperCase();
  }

  private setup(req: RtspRequest): Done {
    const transport = parseTransport(req.headers.transport);
    if (this.published) return this.setupPublisher(req, transport);
    const path = urlPath(req.uri);
    const stream = this.reader?.stream ?? this.ctx.findStream(path);
    if (!stream?.recording) return this.unavailable(req, path);
    const streamUrl = req.uri.split(/[?#]/)[0]?.replace(/\/+$/, '') ?? '';
    const base = streamUrl.slice(
      0,
      streamUrl.toLowerCase().lastIndexOf(stream.path.toLowerCase()) + stream.path.length,
    );
    const track = trackForUrl(stream.sdp, base, streamUrl, true);
    if (track < 0) return this.reply(req, 404);
    if (!transport) return this.reply(req, 461);
    this.newSession();
    if (!this.reader) {
      const session: ReaderSession = {
        id: this.sessionId as string,
        socket: this.socket,
        tracks: new Map(),
        playing: false,
        overSince: undefined,
        dropped: 0,
        sent: 0,
      };
      this.reader = { stream, session };
      stream.readers.add(session);
    }
    const header = this.readerTransport(transport, track);
    if (!header) return this.reply(req, 461);
    this.reply(req, 200, { ...this.sessionHeader(), Transport: header });
  }

  private readerTransport(t: TransportSpec, track: number): string | undefined {
    const session = (this.reader as { session: ReaderSession }).session;
    if (t.lower === 'tcp') {
      const [rtp, rtcp] = t.interleaved ?? [track * 2, track * 2 + 1];
      session.tracks.set(track, { kind: 'tcp', rtpChannel: rtp, rtcpChannel: rtcp });
      return `RTP/AVP/TCP;unicast;interleaved=${rtp}-${rtcp}`;
    }
    const server = this.ctx.udpPorts();
    const host = this.socket.remoteAddress;
    if (!server || !t.clientPort || !host) return undefined;
    const [rtpPort, rtcpPort] = t.clientPort;
    session.tracks.set(track, { kind: 'udp', host: host.replace(/^::ffff:/, ''), rtpPort, rtcpPort });
    return `RTP/AVP;unicast;client_port=${rtpPort}-${rtcpPort};server_port=${server[0]}-${server[1]}`;
  }

  private setupPublisher(req: RtspRequest, transport: TransportSpec | undefined): Done {
    const { stream, base } = this.published as { stream: Stream; base: string };
    const track = trackForUrl(stream.sdp, base, req.uri.split(/[?#]/)[0] ?? req.uri, false);
    if (track < 0) return this.reply(req, 404);
    // Publishers must push over the control connection (TCP interleaved).
    if (transport?.lower !== 'tcp') return this.reply(req, 461);
    const [rtp, rtcp] = transport.interleaved ?? [track * 2, track * 2 + 1];
    stream.channels.set(rtp, { track, rtcp: false });
    stream.channels.set(rtcp, { track, rtcp: true });
    this.newSession();
    this.reply(req, 200, {
      ...this.sessionHeader(),
      Transport: `RTP/AVP/TCP;unicast;interleaved=${rtp}-${rtcp};mode=record`,
    });
  }

  private record(req: RtspRequest): Done {
    if (!this.published || this.published.stream.channels.size === 0) return this.reply(req, 455);
    const { stream } = this.published;
    this.reply(req, 200, this.sessionHeader());
    if (stream.recording) return;
    stream.recording = true;
    this.ctx.log.info({ path: stream.path }, 'publisher recording');
    this.ctx.onRecord(stream);
  }

  private play(req: RtspRequest): Done {
    if (!this.reader || this.reader.session.tracks.size === 0) return this.reply(req, 455);
    if (!this.reader.stream.recording) return this.reply(req, 503);
    this.reply(req, 200, { ...this.sessionHeader(), Range: 'npt=0.000-' });
    this.reader.session.playing = true;
  }

  /** Ends this connection's part: a publisher ends its stream, a reader leaves it. */
  cleanup(reason: string): void {
    if (this.published) {
      const { stream } = this.published;
      this.published = undefined;
      this.ctx.endStream(stream, reason);
    }
    if (this.reader) {
      this.reader.stream.readers.delete(this.reader.session);
      this.reader = undefined;
    }
  }

  close(): void {
    this.cleanup('server closing');
    this.socket.destroy();
  }
}
