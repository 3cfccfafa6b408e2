// An upstream that records every request it receives (method, path, headers, body bytes, whether
// the body completed), so hostile tests can prove what did — and did not — reach it. Paths choose
// hostile behaviour: /never (no answer), /reset-mid (headers, part of the body, then a reset).
import { listenOnLoopback } from '../support/loopbackServer.js';
import http from 'node:http';

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: [string, string][];
  bodyBytes: number;
  complete: boolean;
  aborted: boolean;
}

export interface RecordingUpstream {
  readonly port: number;
  readonly seen: Recorded[];
  close(): Promise<void>;
}

export async function recordingUpstream(): Promise<RecordingUpstream> {
  const seen: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    const rec: Recorded = { method: req.method ?? '', url: req.url ?? '', headers, bodyBytes: 0, complete: false, aborted: false };
    seen.push(rec);
    req.on('data', (c: Buffer) => (rec.bodyBytes += c.length));
    req.on('aborted', () => (rec.aborted = true));
    req.on('error', () => (rec.aborted = true));
    req.on('end', () => {
      rec.complete = true;
      if (req.url === '/never') return;
      if (req.url === '/reset-mid') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000000' });
        res.write('x'.repeat(10_000));
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      const body = JSON.stringify({ url: req.url, bodyBytes: rec.bodyBytes });
      res.writeHead(200, { 'content-type': 'application/x-recorded', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  return { ...(await listenOnLoopback(server)), seen };
}
