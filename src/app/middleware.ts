// requireClientCert: an Express/Connect middleware ((req, res, next), no dependency on either) that
// reads the client certificate, attaches the result as req.clientCert, and answers by itself when
// the request may not pass: 401 when no readable certificate came with it, 403 when the certificate
// is unverified or not on the allow-list. The answer is one short line of text/plain. The options
// are checked when the middleware is made: a mistake there throws, it never loosens the check.
import { isIPv4, isIPv6 } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rawCertFields } from '../headers/certFields.js';
import { certDn, dnMatches, parseRfc4514, soleCommonName, type CertDn, type WantedDn } from './distinguishedName.js';
import { ENVOY_ELEMENTS, type EnvoyElement } from './dialects/envoy.js';
import { readClientCert, type ReadOptions } from './readClientCert.js';
import { DIALECTS, type ClientCertificate, type ClientCertResult, type Dialect } from './result.js';

/**
 * Exact values only, no patterns. Each list given must match (AND); within a list any entry will do.
 */
export interface AllowList {
  /** The subject's common name; a subject with no CN or several CNs is refused. */
  readonly commonNames?: readonly string[];
  /** The whole subject DN in RFC 4514 form (`CN=dev-client,OU=clients,O=mtls-edge dev,C=DE`), compared attribute by attribute. */
  readonly subjects?: readonly string[];
  /** The whole issuer DN, as `subjects`. */
  readonly issuers?: readonly string[];
  /** A SAN with its kind: `DNS:name`, `URI:uri`, `email:address`, `IP:address`; any SAN of the certificate may match. */
  readonly sans?: readonly string[];
}

/** readClientCert's options, except that the dialect must be named (`auto` is refused: docs/app-reader.md). */
export interface RequireClientCertOptions extends Omit<ReadOptions, 'dialect'> {
  /** The dialect of the edge in front of the app (default `cf`). */
  readonly dialect?: Dialect;
  readonly allow?: AllowList;
}

/** The request after the middleware: `req.clientCert` holds the reader's result. */
export type RequestWithClientCert<R extends IncomingMessage = IncomingMessage> = R & { clientCert: ClientCertResult };

type Next = (err?: unknown) => void;

const OPTION_KEYS = ['dialect', 'legacyXfccHeaderMapping', 'envoyElement', 'allow'];
const ALLOW_KEYS = ['commonNames', 'subjects', 'issuers', 'sans'] as const;
const SAN_KINDS = { DNS: 'dns', URI: 'uri', email: 'email', IP: 'ip' } as const;

function bad(why: string): never {
  throw new TypeError(`requireClientCert: ${why}`);
}

function unknownKeys(o: object, known: readonly string[], what: string): void {
  const extra = Object.keys(o).filter((k) => !known.includes(k));
  if (extra.length > 0) bad(`unknown ${what} ${extra.map((k) => `'${k.slice(0, 40)}'`).join(', ')} (known: ${known.join(', ')})`);
}

/** A list of the allow-list: an array of at least one string. */
function strings(list: unknown, key: string): readonly string[] | null {
  if (list === undefined) return null;
  if (!Array.isArray(list)) bad(`allow.${key} must be an array of strings`);
  if (list.length === 0) bad(`allow.${key} is empty, so it would refuse every certificate; leave it out to allow any`);
  list.forEach((v, i) => {
    if (typeof v !== 'string') bad(`allow.${key}[${i}] must be a string${v instanceof RegExp ? ' (patterns are not accepted: list exact values)' : ''}`);
  });
  return list as string[];
}

/** `IP:` entries as the reader writes addresses (IPv4 dotted, IPv6 per RFC 5952). */
function canonicalIp(ip: string, what: string): string {
  if (isIPv4(ip)) return ip;
  if (isIPv6(ip) && !ip.includes('%')) return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  return bad(`${what}: '${ip.slice(0, 60)}' is not an IPv4 or IPv6 address`);
}

/** Per SAN kind, the allowed values. */
function sanSets(list: readonly string[]): Record<(typeof SAN_KINDS)[keyof typeof SAN_KINDS], Set<string>> {
  const sets = { dns: new Set<string>(), uri: new Set<string>(), email: new Set<string>(), ip: new Set<string>() };
  list.forEach((entry, i) => {
    const colon = entry.indexOf(':');
    const kind = colon < 0 ? undefined : SAN_KINDS[entry.slice(0, colon) as keyof typeof SAN_KINDS];
    if (kind === undefined || !Object.hasOwn(SAN_KINDS, entry.slice(0, colon))) bad(`allow.sans[${i}] must start with DNS:, URI:, email: or IP:`);
    const value = entry.slice(colon + 1);
    sets[kind].add(kind === 'ip' ? canonicalIp(value, `allow.sans[${i}]`) : value);
  });
  return sets;
}

type Check = (c: ClientCertificate) => string | null;

function allowChecks(allow: unknown): Check[] {
  if (allow === undefined) return [];
  if (allow === null || typeof allow !== 'object' || Array.isArray(allow)) bad('allow must be an object');
  unknownKeys(allow, ALLOW_KEYS, 'allow-list key');
  const a = allow as Record<(typeof ALLOW_KEYS)[number], unknown>;
  const checks: Check[] = [];
  const commonNames = strings(a.commonNames, 'commonNames');
  const subjects = strings(a.subjects, 'subjects')?.map((s, i) => parseRfc4514(s, `requireClientCert: allow.subjects[${i}]`));
  const issuers = strings(a.issuers, 'issuers')?.map((s, i) => parseRfc4514(s, `requireClientCert: allow.issuers[${i}]`));
  const sans = strings(a.sans, 'sans');
  // The certificate's names, parsed once per request whatever the number of entries and checks.
  const parsed = new WeakMap<ClientCertificate, { readonly subject: CertDn; readonly issuer: CertDn }>();
  const names = (c: ClientCertificate): { readonly subject: CertDn; readonly issuer: CertDn } => {
    let n = parsed.get(c);
    if (n === undefined) {
      const f = rawCertFields(c.leaf.raw);
      n = { subject: certDn(f.subjectDer), issuer: certDn(f.issuerDer) };
      parsed.set(c, n);
    }
    return n;
  };
  const dnCheck = (wanted: readonly WantedDn[], field: 'subject' | 'issuer'): Check => (c) => {
    const dn = names(c)[field];
    return wanted.some((w) => dnMatches(w, dn)) ? null : `the client certificate ${field} is not allowed`;
  };
  if (subjects) checks.push(dnCheck(subjects, 'subject'));
  if (issuers) checks.push(dnCheck(issuers, 'issuer'));
  if (commonNames) {
    const allowed = new Set(commonNames);
    checks.push((c) => {
      const cn = soleCommonName(names(c).subject);
      if ('refusal' in cn) return cn.refusal;
      return allowed.has(cn.cn) ? null : 'the client certificate common name is not allowed';
    });
  }
  if (sans) {
    const sets = sanSets(sans);
    checks.push((c) =>
      (Object.keys(sets) as (keyof typeof sets)[]).some((k) => c.sans[k].some((v) => sets[k].has(v))) ? null : 'no subject alternative name of the client certificate is allowed',
    );
  }
  return checks;
}

function refuse(res: ServerResponse, status: number, reason: string): void {
  const body = `${reason}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** Throws a TypeError when the options are not what it takes (an unknown key, `dialect: 'auto'`, a RegExp, a malformed DN…). */
export function requireClientCert(options: RequireClientCertOptions = {}): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  if (options === null || typeof options !== 'object') bad('options must be an object');
  unknownKeys(options, OPTION_KEYS, 'option');
  const dialect: unknown = options.dialect ?? 'cf';
  if (dialect === 'auto') {
    bad(`dialect 'auto' cannot decide access: an edge removes only the headers of its own dialect, so a client can send another dialect's headers and pick what is read; name the dialect your edge writes (${DIALECTS.join(', ')})`);
  }
  if (!DIALECTS.includes(dialect as Dialect)) bad(`unknown dialect (expected one of ${DIALECTS.join(', ')})`);
  if (options.legacyXfccHeaderMapping !== undefined && typeof options.legacyXfccHeaderMapping !== 'boolean') bad('legacyXfccHeaderMapping must be a boolean');
  const envoyElement: unknown = options.envoyElement ?? 'only';
  if (!ENVOY_ELEMENTS.includes(envoyElement as EnvoyElement)) bad(`unknown envoyElement (expected ${ENVOY_ELEMENTS.join(' or ')})`);
  const readOptions: ReadOptions = { dialect: dialect as Dialect, legacyXfccHeaderMapping: options.legacyXfccHeaderMapping === true, envoyElement: envoyElement as EnvoyElement };
  const checks = allowChecks(options.allow);
  return (req, res, next) => {
    const result = readClientCert(req, readOptions);
    (req as RequestWithClientCert).clientCert = result;
    let refusal: readonly [number, string] | null = null;
    if (result.status === 'absent') refusal = [401, 'a client certificate is required'];
    else if (result.status === 'unreadable') refusal = [401, `the client certificate headers are unreadable: ${result.reason}`];
    else if (result.status === 'unverified') refusal = [403, `the client certificate is not verified: ${result.reason}`];
    else {
      let why: string | null = null;
      try {
        for (const check of checks) if ((why = check(result.certificate)) !== null) break;
      } catch {
        // The reader already walked these names; a DER error here is a defect, and still a refusal.
        why = 'the client certificate names could not be read';
      }
      if (why !== null) refusal = [403, why];
    }
    if (refusal) refuse(res, refusal[0], refusal[1]);
    else next();
  };
}
