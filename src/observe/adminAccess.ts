// Who may use the admin listener. The flow page shows the certificates and headers of every request,
// so two checks run before any path is served:
//  - Host: only loopback names, the bound address and `admin.allowed_hosts`. Against DNS rebinding
//    (a page on another origin whose name resolves to this listener) on every bind, loopback or not.
//  - Token: required whenever the listener is not bound to loopback, and whenever one is configured.
//    `Authorization: Bearer <token>` for scripts; for a browser, `?token=<token>` once sets an
//    HttpOnly SameSite=Strict cookie and redirects to the same URL without the token.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { ConfigError, type ConfigProblem } from '../config/configError.js';

/** Environment variable holding the admin token when the configuration has none. */
export const ADMIN_TOKEN_ENV = 'MTLS_EDGE_ADMIN_TOKEN';
const ADMIN_TOKEN_MIN_LENGTH = 16;
const COOKIE = 'mtls_edge_admin';

/** A bind address that only this machine can reach. */
export function isLoopbackBind(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** Hostname of a Host header without port or IPv6 brackets, lower case. */
function hostName(host: string | undefined): string {
  if (!host) return '';
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(1, end);
  }
  const i = h.lastIndexOf(':');
  return i >= 0 ? h.slice(0, i) : h;
}

/** The token in force: `admin.token` from the configuration, else the environment variable. */
export function adminToken(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (configured !== undefined && configured !== '') return configured;
  const fromEnv = env[ADMIN_TOKEN_ENV]?.trim();
  return fromEnv ? fromEnv : undefined;
}

export interface AdminAccessOptions {
  /** The bind address. */
  host: string;
  token?: string;
  /** Extra Host names the listener answers to (e.g. the name of the machine it runs on). */
  allowedHosts?: readonly string[];
}

type AccessDecision =
  | { readonly kind: 'allow' }
  /** A valid `?token=`: set this cookie and redirect to `location`. */
  | { readonly kind: 'set-cookie'; readonly cookie: string; readonly location: string }
  | { readonly kind: 'deny'; readonly status: 400 | 401 | 421; readonly message: string };

type AdminRequest = Pick<IncomingMessage, 'headers' | 'url'>;

export interface AdminAccess {
  readonly tokenRequired: boolean;
  check(req: AdminRequest, path: string): AccessDecision;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Constant-time comparison; both sides hashed first so their lengths are equal. */
function sameSecret(candidate: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(candidate), expected);
}

function cookieValue(req: AdminRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Where adminAccessProblems' problems point: the settings as the reader wrote them. */
export interface AdminSettingNames {
  readonly host: string;
  readonly token: string;
}

/**
 * What would publish the flow page without a credential, or with a guessable one: each problem
 * names the setting and the fix. `token` is the one in force (adminToken()). The configuration
 * load runs this too, so `start` (also the primary of `--workers`) and a reload refuse such a file
 * before any listener, or worker, starts.
 */
export function adminAccessProblems(host: string, token: string | undefined, names: AdminSettingNames): ConfigProblem[] {
  if (token !== undefined && token.length < ADMIN_TOKEN_MIN_LENGTH) {
    return [{ where: names.token, message: `too short: use at least ${ADMIN_TOKEN_MIN_LENGTH} characters, e.g. the output of \`node -e "console.log(crypto.randomBytes(24).toString('hex'))"\`` }];
  }
  if (!isLoopbackBind(host) && token === undefined) {
    return [{
      where: names.host,
      message:
        `${host} is not loopback, and no admin token is set: ` +
        `set ${ADMIN_TOKEN_ENV} (e.g. \`export ${ADMIN_TOKEN_ENV}=$(node -e "console.log(crypto.randomBytes(24).toString('hex'))")\`) or admin.token, ` +
        `or bind admin.host to 127.0.0.1`,
    }];
  }
  return [];
}

/**
 * Refuses (with a message naming the setting and the fix) a configuration that would publish the
 * flow page without a credential, or with a guessable one.
 */
export function createAdminAccess(opts: AdminAccessOptions): AdminAccess {
  const token = opts.token;
  const problems = adminAccessProblems(opts.host, token, { host: 'admin.host', token: `admin.token (or ${ADMIN_TOKEN_ENV})` });
  if (problems.length > 0) throw new ConfigError(problems);
  const allowed = new Set(['localhost', '127.0.0.1', '::1', ...(opts.allowedHosts ?? []).map((h) => hostName(h) || h.toLowerCase())]);
  const bound = opts.host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (!WILDCARD.has(bound)) allowed.add(bound);

  const expected = token === undefined ? null : digest(token);
  // The cookie carries a value derived from the token, not the token itself.
  const cookieSecret = token === undefined ? null : createHmac('sha256', token).update('mtls-edge admin cookie').digest('hex');
  const expectedCookie = cookieSecret === null ? null : digest(cookieSecret);

  return {
    tokenRequired: expected !== null,
    check(req, path) {
      const name = hostName(req.headers.host);
      if (!allowed.has(name) && !(name.startsWith('127.') && isIP(name) === 4)) {
        return { kind: 'deny', status: 421, message: `The admin listener does not answer to this Host name. Add it to admin.allowed_hosts if it is yours.\n` };
      }
      if (expected === null || expectedCookie === null || cookieSecret === null) return { kind: 'allow' };
      // Health checks (container orchestrators, load balancers) carry no credential; /healthz shows
      // only `ok` or `starting`.
      if (path === '/healthz') return { kind: 'allow' };
      const auth = req.headers.authorization;
      if (auth !== undefined) {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
        if (m && sameSecret(m[1]!, expected)) return { kind: 'allow' };
        return { kind: 'deny', status: 401, message: 'Wrong admin token.\n' };
      }
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://admin.invalid');
      } catch {
        // A target such as `//[` that is no URL: the client's mistake, not the listener's fault.
        return { kind: 'deny', status: 400, message: 'The request target is not a URL path.\n' };
      }
      const fromQuery = url.searchParams.get('token');
      if (fromQuery !== null) {
        if (!sameSecret(fromQuery, expected)) return { kind: 'deny', status: 401, message: 'Wrong admin token.\n' };
        url.searchParams.delete('token');
        return {
          kind: 'set-cookie',
          cookie: `${COOKIE}=${cookieSecret}; HttpOnly; SameSite=Strict; Path=/`,
          // One leading slash: a normalised path may start with `//` (from /.//host), which a
          // browser would follow to another host.
          location: url.pathname.replace(/^[/\\]+/, '/') + url.search,
        };
      }
      const cookie = cookieValue(req, COOKIE);
      if (cookie !== undefined && sameSecret(cookie, expectedCookie)) return { kind: 'allow' };
      return {
        kind: 'deny',
        status: 401,
        message: `The admin listener needs its token: send "Authorization: Bearer <token>", or open /?token=<token> once in the browser (the token is admin.token or ${ADMIN_TOKEN_ENV}).\n`,
      };
    },
  };
}

/** Header carrying the page's lesson token on state-changing requests. */
const PAGE_TOKEN_HEADER = 'x-mtls-edge-page-token';

/**
 * Why a state-changing POST from the page is refused, or null when it may run. Against CSRF: the
 * request must carry the token printed into the page (another origin cannot read the page), as a
 * custom header with a JSON body (both force a CORS preflight, which this listener never grants),
 * and a browser's Origin / Sec-Fetch-Site, when sent, must name this very origin.
 */
export function samePagePostProblem(req: AdminRequest & Pick<IncomingMessage, 'method'>, pageToken: string): string | null {
  if (req.method !== 'POST') return 'use POST';
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) return 'send Content-Type: application/json';
  const token = req.headers[PAGE_TOKEN_HEADER];
  if (typeof token !== 'string' || !sameSecret(token, digest(pageToken))) return `send the page's token in ${PAGE_TOKEN_HEADER} (reload the page: the edge restarted)`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `cross-site request refused (Sec-Fetch-Site: ${String(site)})`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) return `cross-origin request refused (Origin: ${origin})`;
  return null;
}
