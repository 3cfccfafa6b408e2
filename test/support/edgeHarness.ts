// Test harness: one generated PKI (dev + failure family) per test process, edges started in-process
// on loopback port 0, and a real HTTPS client. Everything started here is stopped by the caller's
// `after`/`afterEach` via the returned close functions.
import https from 'node:https';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki, type DevPki } from '../../src/pki/devPki.js';
import { crlPaths } from '../../src/pki/devPki.js';
import { failurePaths, type FailureKind } from '../../src/pki/failures.js';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigOverrides } from '../../src/config/startFlags.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge.js';
import { EventBus, type EdgeEvent } from '../../src/observe/events.js';

let shared: Promise<{ dir: string; pki: DevPki }> | null = null;

/** The dev PKI with the failure family, generated once per mocha process into a temp folder. */
export function testPki(): Promise<{ dir: string; pki: DevPki }> {
  if (!shared) {
    const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-test-pki-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    shared = ensureDevPki(dir, { withFailures: true }).then(({ pki }) => ({ dir, pki }));
  }
  return shared;
}

export interface ClientIdentity {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export async function clientIdentity(kind: 'valid' | FailureKind): Promise<ClientIdentity> {
  const { dir, pki } = await testPki();
  if (kind === 'valid') return { cert: readFileSync(pki.client.chain), key: readFileSync(pki.client.key) };
  const f = failurePaths(dir, kind);
  return { cert: readFileSync(f.chain), key: readFileSync(f.key) };
}

export async function testCrls(): Promise<{ root: string; intermediate: string; all: string }> {
  const { dir } = await testPki();
  return crlPaths(dir);
}

export interface TestEdge {
  readonly edge: RunningEdge;
  readonly httpsPort: number;
  readonly httpPort: number;
  readonly events: EdgeEvent[];
  readonly pki: DevPki;
  close(): Promise<void>;
}

/** Starts an edge on 127.0.0.1 with the dev PKI unless overridden; YAML-like config object optional. */
export async function startTestEdge(overrides: ConfigOverrides = {}, configYaml?: string): Promise<TestEdge> {
  const { dir, pki } = await testPki();
  let file: string | undefined;
  let tmp: string | undefined;
  if (configYaml !== undefined) {
    tmp = mkdtempSync(join(tmpdir(), 'mtls-edge-cfg-'));
    file = join(tmp, 'edge.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, configYaml);
  }
  const loaded = await loadConfig({
    file,
    overrides: { httpsPort: 0, httpPort: 0, bind: '127.0.0.1', pkiDir: dir, admin: false, ...overrides },
  });
  const events: EdgeEvent[] = [];
  const bus = new EventBus();
  bus.subscribe({ emit: (e) => events.push(e) });
  const edge = await startEdge(loaded.config, loaded.resolved, bus);
  return {
    edge,
    httpsPort: edge.httpsPort,
    httpPort: edge.httpPort ?? 0,
    events,
    pki,
    close: async () => {
      await edge.close(2000);
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export interface EchoReply {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Parsed echo JSON (headers the upstream received, as [name, value] pairs), when the echo answered. */
  readonly echo: { method: string; path: string; headers: [string, string][] } | null;
}

export interface RequestOptions {
  readonly identity?: ClientIdentity;
  readonly headers?: Record<string, string | string[]> | [string, string][];
  readonly path?: string;
  readonly servername?: string;
  readonly method?: string;
  readonly body?: string | Buffer;
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

function toRawHeaders(h: RequestOptions['headers']): string[] | Record<string, string | string[]> | undefined {
  if (!h) return undefined;
  if (Array.isArray(h)) return h.flat();
  return h;
}

function collect(req: http.ClientRequest, body: RequestOptions['body']): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => req.destroy(new Error('test request timed out after 10 s')), 10_000);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('latin1');
        let echo: EchoReply['echo'] = null;
        if ((res.headers['content-type'] ?? '').includes('application/json')) {
          try {
            echo = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            echo = null;
          }
        }
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body: text, echo });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

/** One HTTPS request over a fresh connection (agent: false), presenting `identity` if given. */
export async function httpsRequest(port: number, opts: RequestOptions = {}): Promise<EchoReply> {
  const { pki } = await testPki();
  const req = https.request({
    host: '127.0.0.1',
    port,
    path: opts.path ?? '/',
    method: opts.method ?? 'GET',
    servername: opts.servername ?? 'localhost',
    ca: readFileSync(pki.rootCa.cert),
    cert: opts.identity?.cert,
    key: opts.identity?.key,
    agent: false,
    maxVersion: opts.maxVersion,
    headers: toRawHeaders(opts.headers ?? { host: opts.servername ?? 'localhost' }),
    setHost: opts.headers === undefined,
  });
  return collect(req, opts.body);
}

export function httpRequest(port: number, opts: Omit<RequestOptions, 'identity' | 'servername'> = {}): Promise<EchoReply> {
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: opts.path ?? '/',
    method: opts.method ?? 'GET',
    agent: false,
    headers: toRawHeaders(opts.headers),
  });
  return collect(req, opts.body);
}

/** Values of a header the upstream received (case-insensitive), in order. */
export function received(reply: EchoReply, name: string): string[] {
  const lower = name.toLowerCase();
  return (reply.echo?.headers ?? []).filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}

/** Waits until `predicate` holds, polling every 10 ms, at most `ms`. */
export async function eventually(predicate: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
