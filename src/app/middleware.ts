// requireClientCert: an Express/Connect middleware ((req, res, next), no dependency on either) that
// reads the client certificate, attaches the result as req.clientCert, and answers by itself when
// the request may not pass: 401 when no readable certificate came with it, 403 when the certificate
// is unverified or not on the allow-list. The answer is one short line of text/plain.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readClientCert, type ReadOptions } from './readClientCert.js';
import type { ClientCertificate, ClientCertResult } from './result.js';

/** A string matches exactly; a RegExp is tested (its g and y flags are dropped). */
export type Matcher = string | RegExp;

/**
 * Each list given must match (subject AND issuer AND SAN); within a list any entry will do.
 * `subjects`: the one-line subject DN or the CN; `issuers`: the one-line issuer DN; `sans`: any
 * SAN value (DNS, URI, email, IP).
 */
export interface AllowList {
  readonly subjects?: readonly Matcher[];
  readonly issuers?: readonly Matcher[];
  readonly sans?: readonly Matcher[];
}

export interface RequireClientCertOptions extends ReadOptions {
  readonly allow?: AllowList;
}

/** The request after the middleware: `req.clientCert` holds the reader's result. */
export type RequestWithClientCert<R extends IncomingMessage = IncomingMessage> = R & { clientCert: ClientCertResult };

type Next = (err?: unknown) => void;

function compile(list: readonly Matcher[] | undefined): ((values: readonly string[]) => boolean) | null {
  if (list === undefined) return null;
  const tests = list.map((m) => {
    if (typeof m === 'string') return (v: string) => v === m;
    const re = new RegExp(m.source, m.flags.replace(/[gy]/g, ''));
    return (v: string) => re.test(v);
  });
  return (values) => values.some((v) => tests.some((t) => t(v)));
}

function refuse(res: ServerResponse, status: number, reason: string): void {
  const body = `${reason}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export function requireClientCert(options: RequireClientCertOptions = {}): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const subjects = compile(options.allow?.subjects);
  const issuers = compile(options.allow?.issuers);
  const sans = compile(options.allow?.sans);
  const allowed = (c: ClientCertificate): string | null => {
    if (subjects && !subjects(c.commonName === null ? [c.subject] : [c.subject, c.commonName])) return 'the client certificate subject is not allowed';
    if (issuers && !issuers([c.issuer])) return 'the client certificate issuer is not allowed';
    if (sans && !sans([...c.sans.dns, ...c.sans.uri, ...c.sans.email, ...c.sans.ip])) return 'no subject alternative name of the client certificate is allowed';
    return null;
  };
  return (req, res, next) => {
    let result: ClientCertResult;
    let refusal: readonly [number, string] | null = null;
    try {
      result = readClientCert(req, options);
      (req as RequestWithClientCert).clientCert = result;
      if (result.status === 'absent') refusal = [401, 'a client certificate is required'];
      else if (result.status === 'unreadable') refusal = [401, `the client certificate headers are unreadable: ${result.reason}`];
      else if (result.status === 'unverified') refusal = [403, `the client certificate is not verified: ${result.reason}`];
      else {
        const why = allowed(result.certificate);
        if (why !== null) refusal = [403, why];
      }
    } catch (e) {
      // A RegExp from the options may throw on a pathological input; the request fails, the app stays up.
      next(e);
      return;
    }
    if (refusal) refuse(res, refusal[0], refusal[1]);
    else next();
  };
}
