// Raw HTTP/1.1 over real TLS or TCP sockets, for tests that must control the exact bytes on the
// wire (header case, folding, smuggling attempts) or keep one connection for several requests.
// Every wait is bounded; callers destroy sockets in finally blocks.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { testPki, type ClientIdentity } from './edgeHarness.js';

export interface RawTlsOptions {
  readonly identity?: ClientIdentity;
  readonly servername?: string;
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly timeoutMs?: number;
  /** Skip the server-name check (the chain is still verified against the dev root). */
  readonly anyServerName?: boolean;
}

const tcpUnder = new WeakMap<tls.TLSSocket, net.Socket>();

/**
 * Ends a connection with a TCP reset, the way a client that is gone (killed, or its network lost)
 * leaves: unlike its FIN, which the edge takes as a half-close and still answers.
 */
export function resetConnection(socket: net.Socket): void {
  const tcp = socket instanceof tls.TLSSocket ? tcpUnder.get(socket) : socket;
  if (!tcp) throw new Error('resetConnection: a TLS socket not made by tlsConnect');
  tcp.resetAndDestroy();
  socket.destroy();
}

/** A TLS connection to the edge, resolved after the handshake (rejects on error or timeout). */
export async function tlsConnect(port: number, opts: RawTlsOptions = {}): Promise<tls.TLSSocket> {
  const { pki } = await testPki();
  return new Promise((resolve, reject) => {
    // Over a TCP socket of our own, so resetConnection can reset it (a TLS socket cannot).
    const tcp = net.connect({ host: '127.0.0.1', port });
    tcp.on('error', (e) => socket.destroy(e));
    const socket = tls.connect({
      socket: tcp,
      servername: opts.servername ?? 'localhost',
      ca: readFileSync(pki.rootCa.cert),
      cert: opts.identity?.cert,
      key: opts.identity?.key,
      maxVersion: opts.maxVersion,
      minVersion: opts.minVersion,
      ...(opts.anyServerName ? { checkServerIdentity: () => undefined } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('TLS connect timed out'));
    }, opts.timeoutMs ?? 10_000);
    socket.once('secureConnect', () => {
      tcpUnder.set(socket, tcp);
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.on('error', () => undefined); // later errors surface through the reader
      resolve(socket);
    });
    const onError = (e: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    socket.once('error', onError);
  });
}

export function tcpConnect(port: number, timeoutMs = 10_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('TCP connect timed out'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.on('error', () => undefined);
      resolve(socket);
    });
    const onError = (e: Error): void => {
      clearTimeout(timer);
      reject(e);
    };
    socket.once('error', onError);
  });
}

export interface RawResponse {
  readonly status: number;
  readonly statusLine: string;
  /** [name, value] in wire order. */
  readonly headers: [string, string][];
  readonly body: Buffer;
  /** The upstream's echo when the body is the echo JSON. */
  readonly echo: { method: string; path: string; headers: [string, string][]; bodyBytes: number } | null;
}

export function header(r: RawResponse, name: string): string | undefined {
  return r.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

/**
 * Reads successive HTTP/1.1 responses from one socket (keep-alive). Body framing: Content-Length,
 * chunked, or until the connection closes.
 */
export class ResponseReader {
  private buf = Buffer.alloc(0);
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', (e) => {
      this.error = e;
      this.ended = true;
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** True once the peer closed (or reset) the connection. */
  get closed(): boolean {
    return this.ended;
  }

  private async waitFor<T>(take: () => T | null, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = take();
      if (v !== null) return v;
      if (this.ended) throw Object.assign(new Error(`connection closed before ${what}${this.error ? ` (${(this.error as Error & { code?: string }).code ?? this.error.message})` : ''}`), { code: 'CLOSED', received: this.buf.toString('latin1') });
      const left = deadline - Date.now();
      if (left <= 0) throw Object.assign(new Error(`timed out waiting for ${what}`), { code: 'TIMEOUT' });
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  /** Exactly `n` bytes (e.g. WebSocket frames after a 101). */
  async bytes(n: number, timeoutMs = 10_000): Promise<Buffer> {
    const out = await this.waitFor(() => (this.buf.length >= n ? Buffer.from(this.buf.subarray(0, n)) : null), timeoutMs, `${n} bytes`);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Everything until the peer closes (bounded). */
  async untilClosed(timeoutMs = 10_000): Promise<Buffer> {
    await this.waitFor(() => (this.ended ? true : null), timeoutMs, 'the connection to close').catch((e: Error & { code?: string }) => {
      if (e.code !== 'CLOSED') throw e;
    });
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }

  /** The next response head only: what follows it stays to be read (a tunnel's first bytes, a raw body). */
  async head(timeoutMs = 10_000): Promise<Pick<RawResponse, 'status' | 'statusLine' | 'headers'>> {
    const headEnd = await this.waitFor(() => {
      const i = this.buf.indexOf('\r\n\r\n');
      return i >= 0 ? i : null;
    }, timeoutMs, 'a response head');
    const head = this.buf.subarray(0, headEnd).toString('latin1').split('\r\n');
    const statusLine = head[0]!;
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
    const headers: [string, string][] = head.slice(1).map((l) => {
      const c = l.indexOf(':');
      return [l.slice(0, c), l.slice(c + 1).trim()];
    });
    this.buf = this.buf.subarray(headEnd + 4);
    return { status, statusLine, headers };
  }

  async next(timeoutMs = 10_000): Promise<RawResponse> {
    const { status, statusLine, headers } = await this.head(timeoutMs);
    const get = (n: string): string | undefined => headers.find(([k]) => k.toLowerCase() === n)?.[1];
    let body: Buffer;
    const cl = get('content-length');
    if (status === 101 || status === 204 || status === 304) body = Buffer.alloc(0);
    else if (cl !== undefined) {
      const n = Number(cl);
      body = await this.waitFor(() => (this.buf.length >= n ? this.buf.subarray(0, n) : null), timeoutMs, `a ${n}-byte body`);
      this.buf = this.buf.subarray(n);
    } else if ((get('transfer-encoding') ?? '').toLowerCase().includes('chunked')) {
      const parts: Buffer[] = [];
      for (let guard = 0; guard < 100_000; guard++) {
        const lineEnd = await this.waitFor(() => {
          const i = this.buf.indexOf('\r\n');
          return i >= 0 ? i : null;
        }, timeoutMs, 'a chunk size');
        const size = parseInt(this.buf.subarray(0, lineEnd).toString('latin1'), 16);
        if (size === 0) {
          const end = await this.waitFor(() => {
            const i = this.buf.indexOf('\r\n', lineEnd);
            return i >= 0 ? i : null;
          }, timeoutMs, 'the last chunk');
          this.buf = this.buf.subarray(end + 2);
          break;
        }
        await this.waitFor(() => (this.buf.length >= lineEnd + 2 + size + 2 ? true : null), timeoutMs, 'a chunk');
        parts.push(this.buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        this.buf = this.buf.subarray(lineEnd + 2 + size + 2);
      }
      body = Buffer.concat(parts);
    } else {
      body = await this.untilClosed(timeoutMs);
    }
    let echo: RawResponse['echo'] = null;
    if ((get('content-type') ?? '').includes('application/json')) {
      try {
        echo = JSON.parse(body.toString('utf8'));
      } catch {
        echo = null;
      }
    }
    return { status, statusLine, headers, body, echo };
  }
}

/** Writes raw bytes on a fresh connection and reads one response. */
export async function rawExchange(socket: net.Socket, bytes: string | Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  const reader = new ResponseReader(socket);
  socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  return reader.next(timeoutMs);
}

/** Values of a header the upstream received (case-insensitive), in order. */
export function upstreamValues(r: RawResponse, name: string): string[] {
  const lower = name.toLowerCase();
  return (r.echo?.headers ?? []).filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}
