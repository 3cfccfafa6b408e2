// The built-in upstream: answers every request with what it received (method, path, headers in
// order and case, body size), as JSON, or as a readable page when a browser asks. It also accepts
// WebSocket upgrades and sends the same description as the first message, then echoes messages.
// A CONNECT (which the edge forwards, as HAProxy does) gets 405 with the same description: the echo
// is no proxy, and an app that tunnels nothing answers so.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { escapeHtml } from '../observe/html.js';

export interface EchoDescription {
  method: string;
  path: string;
  httpVersion: string;
  /** Header lines exactly as received: [name, value] in order, repeats kept. */
  headers: [string, string][];
  bodyBytes: number;
}

function describe(req: IncomingMessage, bodyBytes: number): EchoDescription {
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  return { method: req.method ?? '', path: req.url ?? '', httpVersion: req.httpVersion, headers, bodyBytes };
}

function decodedBase64(value: string): string | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return null;
  const text = Buffer.from(value, 'base64').toString('utf8');
  return /^[\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes('\ufffd') ? text : null;
}

function htmlPage(d: EchoDescription): string {
  const rows = d.headers
    .map(([k, v]) => {
      const dec = /^x-ssl-client-(subject|issuer|root-ca)/i.test(k) || /^x-ssl-client-subject-cn$/i.test(k) ? decodedBase64(v) : null;
      return `<tr><th>${escapeHtml(k)}</th><td><code>${escapeHtml(v)}</code>${dec ? `<div class="dec">decoded: ${escapeHtml(dec)}</div>` : ''}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>mtls-edge echo</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid #ddd}th{white-space:nowrap;font-weight:600}code{word-break:break-all}.dec{color:#067;font-size:12px}</style></head>
<body><h1>What the app received</h1><p><b>${escapeHtml(d.method)}</b> <code>${escapeHtml(d.path)}</code> HTTP/${escapeHtml(d.httpVersion)} — body ${d.bodyBytes} bytes</p>
<table>${rows}</table></body></html>\n`;
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  let bodyBytes = 0;
  req.on('data', (c: Buffer) => (bodyBytes += c.length));
  req.on('end', () => {
    const d = describe(req, bodyBytes);
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');
    const body = wantsHtml ? htmlPage(d) : JSON.stringify(d, null, 2) + '\n';
    res.writeHead(200, {
      'content-type': wantsHtml ? 'text/html; charset=utf-8' : 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
}

/** Minimal RFC 6455 server: text frames only, enough to show headers over a WebSocket. */
function wsFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, len]) : len < 65536 ? Buffer.from([0x81, 126, len >> 8, len & 255]) : Buffer.concat([Buffer.from([0x81, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
  return Buffer.concat([head, payload]);
}

function upgrade(req: IncomingMessage, socket: Duplex): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.write(wsFrame(JSON.stringify(describe(req, 0))));
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (let guard = 0; guard < 1000 && buf.length >= 2; guard++) {
      const opcode = buf[0] & 0x0f;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      const masked = (buf[1] & 0x80) !== 0;
      const total = off + (masked ? 4 : 0) + len;
      if (buf.length < total) return;
      const mask = masked ? buf.subarray(off, off + 4) : null;
      const payload = Buffer.from(buf.subarray(total - len, total));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      buf = buf.subarray(total);
      if (opcode === 0x8) { socket.end(Buffer.from([0x88, 0])); return; }
      if (opcode === 0x1) socket.write(wsFrame(payload.toString('utf8')));
    }
  });
  socket.on('error', () => socket.destroy());
  // The client (or the edge's tunnel) half-closed: close our side too, or the tunnel stays half-open.
  socket.on('end', () => socket.end());
}

function connect(req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  const body = JSON.stringify(describe(req, 0), null, 2) + '\n';
  socket.end(`HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export interface EchoServer {
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startEchoServer(host = '127.0.0.1', port = 0): Promise<EchoServer> {
  const server = http.createServer({ keepAliveTimeout: 30_000 }, answer);
  server.on('upgrade', upgrade);
  server.on('connect', connect);
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
