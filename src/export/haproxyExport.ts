// From the edge's loaded configuration to the files of `mtls-edge export haproxy`: haproxy.cfg, the
// crt-list, and per TLS configuration cert-N.pem (chain + key, 0600), ca-file-N.pem and
// crl-file-N.pem, named as the template's certs.ttar.erb names them. What the edge does that HAProxy
// cannot is listed at the top of haproxy.cfg (notes), never dropped silently.
import { join } from 'node:path';
import { certificateBlocks, privateKeyBlock, type ResolvedConfig, type ResolvedRoute, type ResolvedTlsProfile } from '../config/resolve.js';
import type { Config } from '../config/schema.js';
import { crtListLine, renderHaproxyCfg, ROOT_CA_DN_NOTE, type HaproxyBackend } from './haproxyConfig.js';
import { exportName, type ExportName } from './exportNames.js';

export interface ExportFile {
  readonly name: ExportName;
  readonly content: string | Buffer;
  /** Holds a private key: written 0600. */
  readonly secret: boolean;
}

export class ExportError extends Error {}

/** Port the echo upstream is expected on: `mtls-edge echo` listens there by default. */
const ECHO_ADDRESS = '127.0.0.1:3000';

/** Characters HAProxy's configuration and the crt-list take without quoting. */
const PLAIN = /^[A-Za-z0-9._~:/@%+=,*-]+$/;

function plain(where: string, value: string, fix: string): string {
  if (!PLAIN.test(value)) throw new ExportError(`${where}: ${JSON.stringify(value)} cannot be written into haproxy.cfg (spaces, quotes, # or other special characters): ${fix}`);
  return value;
}

const ignoreList = (v: 'all' | ReadonlySet<number>): string | undefined => (v === 'all' ? 'all' : v.size ? [...v].join(',') : undefined);

/** seconds → the template's milliseconds (erb 368-373: `(x * 1000).to_i ms`). */
const ms = (s: number): string => `${Math.trunc(s * 1000)}ms`;

function routeAcls(r: ResolvedRoute, i: number): string[][] {
  const acls: string[][] = [];
  const host = r.host.toLowerCase().replace(/\.$/, '');
  if (host !== '*') {
    const h = plain(`routes[${i}].host`, host, 'use a plain host name or *.domain');
    acls.push([h.startsWith('*.') ? `hdr(host),host_only,lower -m end ${h.slice(1)}` : `hdr(host),host_only,lower -m str ${h}`]);
  }
  if (r.path !== '/') {
    const p = plain(`routes[${i}].path`, r.path, 'use a path of plain characters');
    // The edge's prefix match: "/api" matches "/api" and "/api/…", not "/apix" (src/edge/routeTable.ts).
    acls.push(p.endsWith('/') ? [`path_beg ${p}`] : [`path ${p}`, `path_beg ${p}/`]);
  }
  return acls;
}

function serverLine(r: ResolvedRoute, i: number, files: ExportFile[], outDir: string, notes: string[]): string {
  if (r.upstream === 'echo') {
    notes.push(`routes[${i}] goes to the built-in echo upstream: HAProxy sends it to ${ECHO_ADDRESS}, where \`mtls-edge echo\` listens`);
    return ECHO_ADDRESS;
  }
  const u = new URL(r.upstream);
  const tls = u.protocol === 'https:';
  const address = `${u.hostname.replace(/^\[|\]$/g, '')}:${u.port || (tls ? '443' : '80')}`;
  let s = plain(`routes[${i}].upstream`, address, 'use a host name or address');
  if (tls) {
    const t = r.tls;
    if (t && !t.rejectUnauthorized) s += ' ssl verify none';
    else if (t?.ca?.length) {
      // The certificates only: a CA file may hold the CA's key too (mitmproxy-ca.pem does), and this one is 0644.
      const ca = t.ca.map((b) => certificateBlocks(b)).join('');
      if (!ca) throw new ExportError(`routes[${i}].tls.ca: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file: give the CA certificate in PEM`);
      files.push({ name: exportName('backend-ca', i), content: ca, secret: false });
      s += ` ssl verify required ca-file ${join(outDir, exportName('backend-ca', i))}`;
    } else s += ' ssl verify required ca-file @system-ca';
    if (t?.cert && t.key) {
      const [crt, key] = [certificateBlocks(t.cert), privateKeyBlock(t.key)];
      if (!crt || !key) throw new ExportError(`routes[${i}].tls: no PEM ${crt ? 'private key' : 'certificate'} in the ${crt ? 'key' : 'cert'} file: give the client certificate and its key in PEM`);
      files.push({ name: exportName('backend-crt', i), content: crt + key, secret: true });
      s += ` crt ${join(outDir, exportName('backend-crt', i))}`;
    }
    const sni = t?.servername ?? u.hostname;
    s += ` sni str(${plain(`routes[${i}].tls.servername`, sni, 'use a plain host name')})`;
    if (!t || t.rejectUnauthorized) s += ` verifyhost ${sni}`;
  }
  return s;
}

/** Notes both exports write in the same words: settings neither HAProxy nor nginx has. */
export function notesForEveryProxy(c: Config, profiles: readonly ResolvedTlsProfile[], proxy: 'HAProxy' | 'nginx'): { clientAuthFronting: string[]; userMappings: string[] } {
  return {
    clientAuthFronting: c.disable_client_auth_fronting && profiles.length > 1 ? [`disable_client_auth_fronting: the 421 for a Host that belongs to a TLS configuration checking clients more strictly than the one the SNI chose (docs/edge-behaviour.md §10.7) has no ${proxy} equivalent`] : [],
    userMappings: c.certificate_user_mappings.length ? [`certificate_user_mappings: no ${proxy} equivalent (mtls-edge maps certificates to users)`] : [],
  };
}

/** What the edge does that the rendered configuration does not: the comment block at the top. */
function edgeOnlyNotes(c: Config, withRootCaDn: boolean, profiles: readonly ResolvedTlsProfile[]): string[] {
  const n: string[] = [];
  const every = notesForEveryProxy(c, profiles, 'HAProxy');
  if (!withRootCaDn) n.push(ROOT_CA_DN_NOTE);
  n.push(...every.clientAuthFronting);
  if (c.explain_rejections) n.push('explain_rejections: HAProxy refuses a certificate with a TLS alert only; it cannot answer with a page explaining why');
  if (c.headers_with_underscores === 'flag') n.push('headers_with_underscores: flag: HAProxy passes header names with underscores as mtls-edge does, but names them nowhere (mtls-edge logs them and shows them on the flow page)');
  if (c.headers_with_underscores === 'drop') n.push('headers_with_underscores: drop: not rendered; HAProxy passes header names with underscores');
  if (c.gorouter.enabled) n.push('gorouter: X-Request-Start, X-Vcap-Request-Id and the removal of X-CF-Application* are Gorouter\'s, not HAProxy\'s: run Gorouter behind this HAProxy');
  n.push(...every.userMappings);
  if (c.admin !== false) n.push('admin: the flow page, /status, the event stream and metrics are mtls-edge\'s own; HAProxy has its stats page instead (not rendered)');
  if (c.timeouts.request !== undefined) n.push(`timeouts.request (${c.timeouts.request} s for the whole request): HAProxy has one http-request timeout; it is rendered from timeouts.request_headers`);
  if (c.workers > 1) n.push('workers: not rendered; HAProxy runs threads (nbthread) in one process');
  const withAuth = profiles.filter((p) => p.clientAuth !== 'disabled');
  const lists = new Set(withAuth.map((p) => `${ignoreList(p.ignore)}|${ignoreList(p.caIgnore)}`));
  if (lists.size > 1) n.push('ignore_errors/ca_ignore_errors differ between TLS configurations: HAProxy has one crt-ignore-err/ca-ignore-err per bind; those of the first TLS configuration with client certificates are rendered');
  profiles.forEach((p, i) => {
    if (i > 0 && p.hosts.includes('*')) n.push(`tls[${i}] hosts "*": a crt-list line other than the first cannot match every name; HAProxy selects it by the names in its certificate`);
  });
  return n;
}

export interface HaproxyExportOptions {
  /** Absolute folder the files are written to (paths in haproxy.cfg and the crt-list point there). */
  readonly outDir: string;
  /** major.minor of the HAProxy that will run it (ssl_c_r_dn exists from 2.8). */
  readonly haproxyVersion: string;
}

export function haproxyExport(config: Config, resolved: ResolvedConfig, opts: HaproxyExportOptions): ExportFile[] {
  const { outDir } = opts;
  plain('--out', outDir, 'choose a folder whose path has no spaces or special characters');
  if (config.https_port === 0) throw new ExportError('https_port: 0 (any free port) cannot be exported: set a port');
  if (config.http_port === 0) throw new ExportError('http_port: 0 (any free port) cannot be exported: set a port, or false');
  const [major, minor] = opts.haproxyVersion.split('.').map(Number);
  if (!Number.isInteger(major) || !Number.isInteger(minor)) throw new ExportError(`--haproxy-version: "${opts.haproxyVersion}" is not a version such as 3.2 or 2.6`);
  const withRootCaDn = major! > 2 || (major === 2 && minor! >= 8);
  const files: ExportFile[] = [];
  const profiles = resolved.tlsProfiles;
  const crtList: string[] = [];
  profiles.forEach((p, i) => {
    const certFile = join(outDir, exportName('cert', i));
    const pem = (b: Buffer): string => (b.toString('latin1').endsWith('\n') ? b.toString('latin1') : `${b.toString('latin1')}\n`);
    // certs.ttar.erb 11-13: the chain and the key in one file, 0600 (and only them: a `cert:` file
    // without `key:` holds both, and is read for its blocks, never copied whole).
    files.push({ name: exportName('cert', i), content: certificateBlocks(p.certPem) + privateKeyBlock(p.keyPem), secret: true });
    const auth = p.clientAuth !== 'disabled';
    let caFile: string | null = null;
    let crlFile: string | null = null;
    if (auth) {
      caFile = join(outDir, exportName('ca-file', i));
      files.push({ name: exportName('ca-file', i), content: p.trustPem, secret: false });
      if (p.crlPem.length) {
        crlFile = join(outDir, exportName('crl-file', i));
        files.push({ name: exportName('crl-file', i), content: p.crlPem.map((c) => pem(c)).join(''), secret: false });
      }
    }
    const snis = p.hosts.filter((h) => h !== '*').map((h, j) => plain(`tls[${i}].hosts[${j}]`, h, 'use a plain host name or *.domain'));
    crtList.push(crtListLine({ certFile, caFile, crlFile, verify: auth ? p.clientAuth as 'optional' | 'required' : 'none', alpn: p.alpn, snis }));
  });
  files.push({ name: 'crt-list', content: `${crtList.join('\n')}\n`, secret: false });
  const notes = edgeOnlyNotes(config, withRootCaDn, profiles);
  const firstAuth = profiles.findIndex((p) => p.clientAuth !== 'disabled');
  const backends: HaproxyBackend[] = resolved.routes.map((r, i) => ({ name: `route${i}`, acls: routeAcls(r, i), server: serverLine(r, i, files, outDir, notes) }));
  if (!backends.some((b) => b.acls.length === 0)) notes.push('no catch-all route: a request no route matches gets 503 from HAProxy, as from mtls-edge');
  const cfg = renderHaproxyCfg({
    notes,
    bind: plain('bind', config.bind, 'use an IP address'),
    httpsPort: config.https_port,
    httpPort: config.http_port === false ? null : config.http_port,
    tls: {
      crt: { kind: 'crt-list', file: join(outDir, 'crt-list') },
      strictSni: config.strict_sni,
      // erb 117-118: the bind's ca-file (each crt-list line brings its own); ignore lists are bind options only.
      caFile: firstAuth >= 0 ? join(outDir, exportName('ca-file', firstAuth)) : null,
      verify: 'optional',
      crtIgnoreErr: firstAuth >= 0 ? ignoreList(profiles[firstAuth]!.ignore) : undefined,
      caIgnoreErr: firstAuth >= 0 ? ignoreList(profiles[firstAuth]!.caIgnore) : undefined,
    },
    mode: config.forwarded_client_cert,
    clientCert: firstAuth >= 0,
    legacyXfccHeaderMapping: config.legacy_xfcc_header_mapping,
    withRootCaDn,
    disableDomainFronting: config.disable_domain_fronting,
    hsts: config.hsts ? { maxAge: config.hsts.max_age, includeSubdomains: config.hsts.include_subdomains, preload: config.hsts.preload } : null,
    maxconn: config.max_connections,
    frontendMaxconn: config.listener_max_connections,
    timeouts: {
      connect: ms(config.timeouts.connect),
      client: ms(config.timeouts.client),
      server: ms(config.timeouts.server),
      tunnel: ms(config.timeouts.tunnel),
      'http-keep-alive': ms(config.timeouts.keep_alive),
      'http-request': ms(config.timeouts.request_headers),
    },
    // The edge's max_header_size is what fits: HAProxy's bufsize minus tune.maxrewrite (1024).
    bufsize: config.max_header_size + 1024,
    backends,
  });
  files.unshift({ name: 'haproxy.cfg', content: cfg, secret: false });
  return files;
}
