// Lessons at a click: the trainer's scenarios, which the edge runs against its own HTTPS listener
// with the dev PKI and its failure family (certs/failures/). Each lesson is one real request (or one
// refused handshake) that lands on the flow page like any other, and each names the curl command that
// does the same from a terminal.
import { shellQuote } from './tryIt.js';
import { request } from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { FailureKind } from '../pki/failures.js';
import { failurePaths } from '../pki/failures.js';
import { crlPaths, devPkiPaths } from '../pki/devPki.js';
import type { ForwardedClientCertMode } from '../headers/modeTable.js';
import type { LessonListener } from '../edge/lessonListener.js';
import type { StatusSnapshot } from './status.js';

/** Headers a client forges to pose as `admin` (base64 as HAProxy sets them). */
const FORGED: readonly (readonly [string, string])[] = [
  ['X-SSL-Client', '1'],
  ['X-SSL-Client-Verify', '0'],
  ['X-SSL-Client-Subject-DN', Buffer.from('/C=DE/O=Evil/CN=admin').toString('base64')],
  ['X-SSL-Client-Subject-CN', Buffer.from('admin').toString('base64')],
];

export interface Lesson {
  readonly id: string;
  readonly title: string;
  /** What the room should see, in one or two sentences. */
  readonly teaches: string;
  /** `client` = the dev client certificate; a failure kind = that file of the failure family. */
  readonly identity: 'client' | FailureKind | null;
  readonly headers: readonly (readonly [string, string])[];
  /** Also send the request through the edge under each of the four forwarded_client_cert modes. */
  readonly compareModes?: boolean;
  /** Shows what it teaches only when the edge checks CRLs. */
  readonly needsCrl?: boolean;
}

const failure = (id: FailureKind, title: string, teaches: string): Lesson => ({ id, title, teaches, identity: id, headers: [] });

export const LESSONS: readonly Lesson[] = [
  { id: 'valid', title: 'Valid certificate', identity: 'client', headers: [], teaches: 'The handshake verifies the chain (code 0) and the edge sets the ten X-SSL-Client headers from the certificate; the app reads who the client is from them.' },
  { id: 'forged-with-cert', title: 'Forged headers, with a certificate', identity: 'client', headers: FORGED, teaches: 'The client claims to be admin in its own headers. The edge removes them and sets the real values from the certificate.' },
  { id: 'forged-no-cert', title: 'Forged headers, no certificate', identity: null, headers: FORGED, teaches: 'Without a certificate the forged headers are still removed, and nothing is set: the app sees no identity at all.' },
  failure('expired', 'Expired certificate', 'The handshake is refused with CERT_HAS_EXPIRED (10): no HTTP request reaches the edge or the app.'),
  failure('self-signed', 'Self-signed certificate', 'A certificate that signed itself is not issued by a trusted CA: DEPTH_ZERO_SELF_SIGNED_CERT (18).'),
  failure('untrusted-ca', 'Untrusted CA', 'Issued by a root that is not in the trust list: UNABLE_TO_VERIFY_LEAF_SIGNATURE (21).'),
  failure('missing-intermediate', 'Missing intermediate', 'The client sends its leaf without the intermediate CA, so the chain cannot be built (21). Send the -chain.crt file.'),
  failure('server-auth-only', 'Wrong purpose', 'The certificate is for servers only (extended key usage serverAuth): INVALID_PURPOSE (26).'),
  { ...failure('revoked', 'Revoked certificate', 'Revoked by the intermediate. Without CRLs configured the edge cannot know and accepts it; with --crl it refuses with CERT_REVOKED (23).'), needsCrl: true },
  { id: 'route-service-gap', title: 'The route-service gap', identity: null, headers: [...FORGED, ['X-Cf-Proxy-Signature', 'anything']], compareModes: true, teaches: 'In forward_only_if_route_service any X-Cf-Proxy-Signature header, even a made-up one, keeps the client\u2019s headers: the app gets the forged identity. Compare the four modes.' },
  { id: 'modes', title: 'Each mode side by side', identity: 'client', headers: FORGED, compareModes: true, teaches: 'The same request (forged headers and a valid certificate) sent through the edge under each of the four forwarded_client_cert modes, one column each with what the app received.' },
];

export function lessonById(id: string): Lesson | undefined {
  return LESSONS.find((l) => l.id === id);
}

/**
 * What the running edge gives the lesson runner (src/cli/runEdge.ts passes it): the dev PKI it
 * serves, and one-connection listeners under another forwarded_client_cert mode.
 */
export interface LessonSupport {
  /** The dev PKI directory the edge serves now; null when the configuration names its own TLS (tls:). */
  readonly pkiDir: () => string | null;
  readonly openModeListener: (mode: ForwardedClientCertMode) => Promise<LessonListener>;
}

/** Where the lessons run: the edge's HTTPS listener and the dev PKI it serves. */
export interface LessonTarget {
  readonly port: number;
  readonly pkiDir: string;
}

/** The HTTPS listener and the dev PKI directory; or why the lessons cannot run. */
export function lessonTarget(status: StatusSnapshot, pkiDir: string | null): LessonTarget | string {
  if (pkiDir === null) return 'the lessons use the dev PKI (certs/): start the edge without a tls: section in the configuration (e.g. plain `npm start`)';
  const https = status.listeners.find((l) => l.protocol === 'https');
  if (!https) return 'the edge reports no HTTPS listener yet';
  if (!existsSync(devPkiPaths(pkiDir).rootCa.cert)) return `the dev PKI in ${pkiDir} is incomplete: run \`mtls-edge certs init --with-failures\``;
  return { port: https.port, pkiDir };
}

/**
 * Why a lesson will not show what it teaches with the edge as running, and how to start it so that
 * it does; null when it will. The edge's own settings are never changed by a lesson.
 */
export function lessonNote(lesson: Lesson, status: StatusSnapshot, target: LessonTarget, cwd = process.cwd()): string | null {
  if (!lesson.needsCrl || status.tlsConfigs.some((c) => c.crl === true)) return null;
  const crl = crlPaths(target.pkiDir);
  const rel = (p: string): string => relative(cwd, p) || p;
  return `This edge runs without CRLs, so it accepts the revoked certificate. To see CERT_REVOKED (23), restart it with: npm start -- --crl ${rel(crl.root)} --crl ${rel(crl.intermediate)}`;
}

interface IdentityFiles {
  readonly cert: string;
  readonly key: string;
}

function identityFiles(pkiDir: string, identity: Lesson['identity']): IdentityFiles | null {
  if (identity === null) return null;
  if (identity === 'client') {
    const c = devPkiPaths(pkiDir).client;
    return { cert: c.chain, key: c.key };
  }
  const f = failurePaths(pkiDir, identity);
  return { cert: f.chain, key: f.key };
}

export const lessonPath = (lesson: Lesson): string => `/lesson/${lesson.id}`;


/** The same request from a terminal, with paths relative to the edge's working directory. */
export function curlCommand(lesson: Lesson, target: LessonTarget, cwd = process.cwd()): string {
  const rel = (p: string): string => relative(cwd, p) || p;
  const files = identityFiles(target.pkiDir, lesson.identity);
  const parts = ['curl', '--cacert', rel(devPkiPaths(target.pkiDir).rootCa.cert)];
  if (files) parts.push('--cert', rel(files.cert), '--key', rel(files.key));
  for (const [name, value] of lesson.headers) parts.push('-H', `${name}: ${value}`);
  parts.push(`https://localhost:${target.port}${lessonPath(lesson)}`);
  return parts.map(shellQuote).join(' ');
}

export type LessonOutcome =
  /** `body`: the start of the answer (the echo upstream's report of what it received). */
  | { readonly kind: 'response'; readonly status: number; readonly body: string }
  | { readonly kind: 'refused'; readonly error: string }
  | { readonly kind: 'not-run'; readonly error: string };

const TIMEOUT_MS = 5_000;
const BODY_LIMIT = 64 * 1024;

/** A lesson's request: what came back, and the local port of its connection (null when none was made). */
export interface LessonAttempt {
  readonly outcome: LessonOutcome;
  /** The edge reports it as the client port of the lesson's events: the runner finds them by it. */
  readonly clientPort: number | null;
}

/**
 * Sends the lesson's request to the edge, as curl would; the flow page gets the event. With a
 * lesson listener, to that one (under its mode) over a connection it is told to admit.
 */
export function runLesson(lesson: Lesson, target: LessonTarget, listener: LessonListener | null = null): Promise<LessonAttempt> {
  const files = identityFiles(target.pkiDir, lesson.identity);
  let credentials: { ca: string; cert?: string; key?: string };
  try {
    credentials = { ca: readFileSync(devPkiPaths(target.pkiDir).rootCa.cert, 'utf8') };
    if (files) credentials = { ...credentials, cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
  } catch (e) {
    return Promise.resolve({ outcome: { kind: 'not-run', error: `${(e as Error).message}: run \`mtls-edge certs init --with-failures\`` }, clientPort: null });
  }
  let clientPort: number | null = null;
  // The listener's admission is named at TCP connect, before the first TLS byte is sent.
  const viaListener = (l: LessonListener) => (): tls.TLSSocket => {
    const raw = net.connect(l.port, '127.0.0.1');
    raw.once('connect', () => {
      clientPort = raw.localPort ?? null;
      l.admit(clientPort ?? -1);
    });
    return tls.connect({ socket: raw, servername: 'localhost', ...credentials });
  };
  const done = (outcome: LessonOutcome): LessonAttempt => ({ outcome, clientPort });
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: listener ? listener.port : target.port,
        servername: 'localhost',
        path: lessonPath(lesson),
        method: 'GET',
        timeout: TIMEOUT_MS,
        headers: [['Host', 'localhost'], ...lesson.headers].flat() as string[],
        ...credentials,
        ...(listener ? { createConnection: viaListener(listener) } : { agent: false }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < BODY_LIMIT) body += chunk.slice(0, BODY_LIMIT - body.length);
        });
        res.on('end', () => resolve(done({ kind: 'response', status: res.statusCode ?? 0, body })));
        res.on('error', (e) => resolve(done({ kind: 'refused', error: e.message })));
      },
    );
    if (!listener) {
      req.once('socket', (socket) => {
        const note = (): void => { clientPort = socket.localPort ?? null; };
        if (socket.connecting) socket.once('connect', note);
        else note();
      });
    }
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(done({ kind: 'refused', error: e.code ? `${e.code}: ${e.message}` : e.message })));
    req.end();
  });
}
