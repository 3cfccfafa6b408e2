// Lessons at a click: the trainer's scenarios, which the edge runs against its own HTTPS listener
// with the dev PKI and its failure family (certs/failures/). Each lesson is one real request (or one
// refused handshake) that lands on the flow page like any other, and each names the curl command that
// does the same from a terminal.
import { shellQuote } from './tryIt.js';
import { request } from 'node:https';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import type { FailureKind } from '../pki/failures.js';
import { failurePaths } from '../pki/failures.js';
import { devPkiPaths } from '../pki/devPki.js';
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
  /** Open the flow with the four forwarded_client_cert modes side by side. */
  readonly compareModes?: boolean;
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
  failure('revoked', 'Revoked certificate', 'Revoked by the intermediate. Without CRLs configured the edge cannot know and accepts it; with --crl it refuses with CERT_REVOKED (23).'),
  { id: 'route-service-gap', title: 'The route-service gap', identity: null, headers: [...FORGED, ['X-Cf-Proxy-Signature', 'anything']], compareModes: true, teaches: 'In forward_only_if_route_service any X-Cf-Proxy-Signature header, even a made-up one, keeps the client\u2019s headers: the app gets the forged identity. Compare the four modes.' },
  { id: 'modes', title: 'Each mode side by side', identity: 'client', headers: FORGED, compareModes: true, teaches: 'The same request (forged headers and a valid certificate) under all four forwarded_client_cert modes, one column each.' },
];

export function lessonById(id: string): Lesson | undefined {
  return LESSONS.find((l) => l.id === id);
}

/** Where the lessons run: the edge's HTTPS listener and the dev PKI it serves. */
export interface LessonTarget {
  readonly port: number;
  readonly pkiDir: string;
}

/**
 * The HTTPS listener and the dev PKI directory, read from the status the edge reports; or why the
 * lessons cannot run (they need the dev PKI, whose server chain is `<pki_dir>/server-chain.crt`).
 */
export function lessonTarget(status: StatusSnapshot): LessonTarget | string {
  const https = status.listeners.find((l) => l.protocol === 'https');
  if (!https) return 'the edge reports no HTTPS listener yet';
  for (const c of status.tlsConfigs) {
    const source = c.serverCertificate?.source;
    if (!source || basename(source) !== 'server-chain.crt') continue;
    const pkiDir = dirname(source);
    if (existsSync(devPkiPaths(pkiDir).rootCa.cert)) return { port: https.port, pkiDir };
  }
  return 'the lessons use the dev PKI (certs/): start the edge without a tls: section in the configuration (e.g. plain `npm start`)';
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

/** Sends the lesson's request to the edge, as curl would; the flow page gets the event. */
export function runLesson(lesson: Lesson, target: LessonTarget): Promise<LessonOutcome> {
  const files = identityFiles(target.pkiDir, lesson.identity);
  let tls: { ca: string; cert?: string; key?: string };
  try {
    tls = { ca: readFileSync(devPkiPaths(target.pkiDir).rootCa.cert, 'utf8') };
    if (files) tls = { ...tls, cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
  } catch (e) {
    return Promise.resolve({ kind: 'not-run', error: `${(e as Error).message}: run \`npx mtls-edge certs init --with-failures\`` });
  }
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        servername: 'localhost',
        path: lessonPath(lesson),
        method: 'GET',
        agent: false,
        timeout: TIMEOUT_MS,
        headers: [['Host', 'localhost'], ...lesson.headers].flat() as string[],
        ...tls,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < BODY_LIMIT) body += chunk.slice(0, BODY_LIMIT - body.length);
        });
        res.on('end', () => resolve({ kind: 'response', status: res.statusCode ?? 0, body }));
        res.on('error', (e) => resolve({ kind: 'refused', error: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ kind: 'refused', error: e.code ? `${e.code}: ${e.message}` : e.message }));
    req.end();
  });
}
