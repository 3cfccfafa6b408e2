// Shared test helpers: temp dirs, the system openssl verifier, and a real Node TLS handshake.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { verifyCodeFromNode } from '../../src/pki/verifyCodes.js';

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `mtls-edge-test-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], opts: { env?: Record<string, string>; cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, [...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout: String(stdout), stderr: String(stderr) });
      });
    // A child that exits before reading stdin would otherwise surface as an uncaught EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input ?? '');
  });
}

/** Error codes `openssl verify` printed, in order (empty when it said OK). */
export async function opensslVerify(args: { trust: string; untrusted?: string; leaf: string; crl?: string; purpose?: boolean }): Promise<number[]> {
  const a = ['verify', '-CAfile', args.trust];
  if (args.untrusted) a.push('-untrusted', args.untrusted);
  if (args.purpose !== false) a.push('-purpose', 'sslclient');
  if (args.crl) a.push('-crl_check_all', '-CRLfile', args.crl);
  a.push(args.leaf);
  const r = await run('openssl', a);
  const codes = [...(r.stdout + r.stderr).matchAll(/error (\d+) at \d+ depth/g)].map((m) => Number(m[1]));
  if (r.code === 0 && codes.length === 0) return [];
  return codes;
}

export interface HandshakeResult {
  authorized: boolean;
  /** OpenSSL code derived from Node's authorizationError (0 when authorized). */
  code: number;
  nodeCode: string;
  subjectCn: string | undefined;
}

/**
 * Starts a TLS server trusting `trust` (optionally with CRLs), connects a client presenting
 * `chain` + `key`, and reports what the server saw. Server and socket are always closed.
 */
export async function handshake(opts: {
  serverCert: string; serverKey: string; trust: string; crl?: string;
  clientChain?: string; clientKey?: string; serverCaForClient: string;
}): Promise<HandshakeResult> {
  const [cert, key, ca, crl, clientCert, clientKey, clientCa] = await Promise.all([
    readFile(opts.serverCert), readFile(opts.serverKey), readFile(opts.trust),
    // Node's `crl` option reads only the first CRL of a buffer: pass each PEM block separately.
    opts.crl ? readFile(opts.crl, 'utf8').then(splitPem) : Promise.resolve(undefined),
    opts.clientChain ? readFile(opts.clientChain) : Promise.resolve(undefined),
    opts.clientKey ? readFile(opts.clientKey) : Promise.resolve(undefined),
    readFile(opts.serverCaForClient),
  ]);
  const server = tls.createServer({ cert, key, ca, crl, requestCert: true, rejectUnauthorized: false }, (socket) => {
    const err = socket.authorizationError as (Error & { code?: string }) | null | string;
    const nodeCode = socket.authorized ? 'OK' : typeof err === 'string' ? err : (err?.code ?? String(err?.message));
    const peer = socket.getPeerCertificate();
    const cn = peer && 'subject' in peer && peer.subject ? (peer.subject.CN as string | string[] | undefined) : undefined;
    socket.end(JSON.stringify({ authorized: socket.authorized, nodeCode, subjectCn: Array.isArray(cn) ? cn[0] : cn }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const body = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: clientCa, cert: clientCert, key: clientKey });
      const timer = setTimeout(() => { socket.destroy(); reject(new Error('handshake timed out')); }, 10_000);
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => { data += d; });
      socket.on('end', () => { clearTimeout(timer); socket.end(); resolve(data); });
      socket.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    const parsed = JSON.parse(body) as { authorized: boolean; nodeCode: string; subjectCn?: string };
    const code = parsed.authorized ? 0 : (verifyCodeFromNode(parsed.nodeCode)?.code ?? -1);
    return { authorized: parsed.authorized, code, nodeCode: parsed.nodeCode, subjectCn: parsed.subjectCn };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----\r?\n?/g) ?? [];
}
