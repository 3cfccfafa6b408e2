// The haproxy.cfg the Cloud Foundry HAProxy job renders (cloudfoundry/haproxy-boshrelease,
// jobs/haproxy/templates/haproxy.config.erb and certs.ttar.erb) for the edge's settings: the one
// declaration of those lines. `mtls-edge export haproxy` writes it with its files; the parity suite
// and the benchmarks render it too (test/parity/haproxy.ts). docs/edge-behaviour.md §9 shows it.
// Comments name the template lines each part comes from (line numbers of the template as of
// haproxy-boshrelease c8180ed).
import type { ForwardedClientCertMode } from '../headers/modeTable.js';

/**
 * The ten headers in the order the template deletes them (haproxy.config.erb 617-626, the
 * `:always` branch; the other branches list them in the same order).
 */
export const H10_DELETE_ORDER = [
  'X-Forwarded-Client-Cert',
  'X-SSL-Client',
  'X-SSL-Client-Session-ID',
  'X-SSL-Client-Verify',
  'X-SSL-Client-Subject-DN',
  'X-SSL-Client-Subject-CN',
  'X-SSL-Client-Issuer-DN',
  'X-SSL-Client-NotBefore',
  'X-SSL-Client-NotAfter',
  'X-SSL-Client-Root-CA-DN',
] as const;

type H10Name = (typeof H10_DELETE_ORDER)[number];

/**
 * The set-header lines, in the template's order (haproxy.config.erb 651-668): the value, and for the
 * four DN/CN headers the value under `legacy_xfcc_header_mapping` (659-662: without `,base64`).
 */
const SET_RULES: readonly { readonly name: H10Name; readonly value: string; readonly legacy?: string }[] = [
  { name: 'X-Forwarded-Client-Cert', value: '%[ssl_c_der,base64]' },
  { name: 'X-SSL-Client', value: '%[ssl_c_used]' },
  { name: 'X-SSL-Client-Session-ID', value: '%[ssl_fc_session_id,hex]' },
  { name: 'X-SSL-Client-Verify', value: '%[ssl_c_verify]' },
  { name: 'X-SSL-Client-NotBefore', value: '%{+Q}[ssl_c_notbefore]' },
  { name: 'X-SSL-Client-NotAfter', value: '%{+Q}[ssl_c_notafter]' },
  { name: 'X-SSL-Client-Subject-DN', value: '%{+Q}[ssl_c_s_dn,base64]', legacy: '%{+Q}[ssl_c_s_dn]' },
  { name: 'X-SSL-Client-Subject-CN', value: '%{+Q}[ssl_c_s_dn(cn),base64]', legacy: '%{+Q}[ssl_c_s_dn(cn)]' },
  { name: 'X-SSL-Client-Issuer-DN', value: '%{+Q}[ssl_c_i_dn,base64]', legacy: '%{+Q}[ssl_c_i_dn]' },
  { name: 'X-SSL-Client-Root-CA-DN', value: '%{+Q}[ssl_c_r_dn,base64]', legacy: '%{+Q}[ssl_c_r_dn]' },
];

/** HAProxy < 2.8 has no ssl_c_r_dn: the template's Root-CA-DN line cannot be rendered there. */
export const ROOT_CA_DN_NOTE = 'X-SSL-Client-Root-CA-DN is not set: HAProxy before 2.8 has no ssl_c_r_dn sample fetch (the template line is left out)';

/** The timeouts of docs/edge-behaviour.md §7.5, as HAProxy names them (haproxy.config.erb 368-373). */
export type TimeoutName = 'connect' | 'client' | 'server' | 'tunnel' | 'http-keep-alive' | 'http-request';

/** The TLS part of the HTTPS bind: a single `crt` (the template's ssl_pem form) or a crt-list. */
interface HaproxyBindTls {
  /** `crt FILE` (ha_proxy.ssl_pem, erb 81-89) or `crt-list FILE` (ha_proxy.crt_list, erb 91-101). */
  readonly crt: { readonly kind: 'crt' | 'crt-list'; readonly file: string };
  readonly strictSni: boolean;
  /** Bind-level client CA file; null: client certificates off (mutual_tls_enabled false, erb 117). */
  readonly caFile: string | null;
  /** The template writes `verify optional` here (erb 118); crt-list lines may say otherwise. */
  readonly verify: 'optional' | 'required';
  /** crt-ignore-err / ca-ignore-err (erb 119-122: the template writes one list into both). */
  readonly crtIgnoreErr?: string;
  readonly caIgnoreErr?: string;
  readonly crlFile?: string;
}

/** One backend: a route's ACLs (none: the default backend) and its server line. */
export interface HaproxyBackend {
  readonly name: string;
  /** Conditions ANDed; each is an ACL body, e.g. `hdr(host),host_only -i example.com`. */
  readonly acls: readonly (readonly string[])[];
  readonly server: string;
}

export interface HaproxyModel {
  /** Lines written first, as comments: what the edge does that this configuration does not. */
  readonly notes: readonly string[];
  readonly bind: string;
  readonly httpsPort: number;
  /** null: no plain-HTTP frontend (http_port: false). */
  readonly httpPort: number | null;
  readonly tls: HaproxyBindTls;
  readonly mode: ForwardedClientCertMode;
  /** Whether client certificates are on (the template's mutual_tls_enabled, erb 78-101). */
  readonly clientCert: boolean;
  readonly legacyXfccHeaderMapping: boolean;
  readonly withRootCaDn: boolean;
  readonly disableDomainFronting: boolean | 'mtls_only';
  readonly hsts: { readonly maxAge: number; readonly includeSubdomains: boolean; readonly preload: boolean } | null;
  readonly maxconn: number;
  readonly frontendMaxconn: { readonly https?: number; readonly http?: number };
  readonly timeouts: Readonly<Record<string, string>>;
  /** tune.bufsize (erb 320): the request head fits in bufsize minus tune.maxrewrite (1024). */
  readonly bufsize?: number;
  readonly nbthread?: number;
  /** In order; the first whose ACLs all match is used; the last one without ACLs is the default. */
  readonly backends: readonly HaproxyBackend[];
}

/**
 * The `http-request` lines of the H10 rules for one mode (haproxy.config.erb 134-152 choose the
 * deletion policy and whether to write; 615-668 render them), docs/edge-behaviour.md §4 and §5.
 */
function h10Rules(m: Pick<HaproxyModel, 'mode' | 'clientCert' | 'legacyXfccHeaderMapping' | 'withRootCaDn'>): string[] {
  let del: 'never' | 'always' | 'non_mtls_only' | 'non_route_service_only' = 'never';
  let write = false;
  if (m.mode === 'forward_only') del = m.clientCert ? 'non_mtls_only' : 'always';
  else if (m.mode === 'sanitize_set') [del, write] = ['always', m.clientCert];
  else if (m.mode === 'forward_only_if_route_service') [del, write] = ['non_route_service_only', m.clientCert];
  const cond = { never: null, always: '', non_mtls_only: ' if ! { ssl_c_used }', non_route_service_only: ' if !route_service_request' }[del];
  const out: string[] = [];
  if (cond !== null) for (const h of H10_DELETE_ORDER) out.push(`http-request del-header ${h}${cond}`);
  if (write) {
    for (const r of SET_RULES) {
      if (r.name === 'X-SSL-Client-Root-CA-DN' && !m.withRootCaDn) continue;
      out.push(`http-request set-header ${r.name} ${m.legacyXfccHeaderMapping && r.legacy ? r.legacy : r.value} if { ssl_c_used }`);
    }
  }
  return out;
}

/** The HTTPS bind line's TLS options (haproxy.config.erb 116-127, `tls_bind_options`). */
function bindTls(t: HaproxyBindTls): string {
  let s = `ssl ${t.crt.kind} ${t.crt.file}${t.strictSni ? ' strict-sni' : ''}`;
  if (t.caFile !== null) {
    s += ` ca-file ${t.caFile} verify ${t.verify}`;
    if (t.crtIgnoreErr) s += ` crt-ignore-err ${t.crtIgnoreErr}`;
    if (t.caIgnoreErr) s += ` ca-ignore-err ${t.caIgnoreErr}`;
    if (t.crlFile) s += ` crl-file ${t.crlFile}`;
  }
  return s;
}

/** use_backend lines for every backend with ACLs, then default_backend (erb 483/675 `default_backend`; erb 514-527 route path prefixes to other backends the same way). */
function routing(backends: readonly HaproxyBackend[]): string[] {
  const out: string[] = [];
  for (const b of backends) {
    if (b.acls.length === 0) continue;
    const names = b.acls.map((_, i) => `${b.name}_${i}`);
    b.acls.forEach((alternatives, i) => {
      for (const a of alternatives) out.push(`acl ${names[i]} ${a}`);
    });
    out.push(`use_backend ${b.name} if ${names.join(' ')}`);
  }
  const fallback = [...backends].reverse().find((b) => b.acls.length === 0);
  if (fallback) out.push(`default_backend ${fallback.name}`);
  return out;
}

/** The whole haproxy.cfg. */
/** erb 564-576: https-in's domain-fronting check (the template's block_reason variables are for logging). */
export function domainFrontingRules(setting: true | 'mtls_only'): string[] {
  return [
    'http-request deny deny_status 400 content-type text/plain string "400 Bad Request: missing required Host header" if { req.hdr_cnt(host) eq 0 }',
    'http-request set-var(txn.host) hdr(host),host_only',
    'acl ssl_sni_http_host_match ssl_fc_sni,lower,strcmp(txn.host) eq 0',
    setting === 'mtls_only'
      ? 'http-request deny deny_status 421 if { ssl_fc_has_sni } { ssl_c_used } !ssl_sni_http_host_match'
      : 'http-request deny deny_status 421 if { ssl_fc_has_sni } !ssl_sni_http_host_match',
  ];
}

export function renderHaproxyCfg(m: HaproxyModel): string {
  const lines: string[] = [];
  if (m.notes.length) {
    lines.push('# What mtls-edge does that this configuration does not (not expressible in HAProxy, or not HAProxy\'s part):');
    for (const n of m.notes) lines.push(`#   - ${n}`);
    lines.push('');
  }
  lines.push(
    'global',
    `  maxconn ${m.maxconn}`, // erb 305
    ...(m.nbthread ? [`  nbthread ${m.nbthread}`] : []), // erb 300-302
    '  tune.ssl.default-dh-param 2048', // erb 316
    ...(m.bufsize ? [`  tune.bufsize ${m.bufsize}`] : []), // erb 317
    // erb 49-75 (ssl_min_ver set: `ssl-min-ver`, then no-tls-tickets): the edge offers TLS 1.2 and 1.3, without tickets.
    '  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets',
    '',
    'defaults',
    '  mode http',
    `  maxconn ${m.maxconn}`, // erb 350
    '  option http-server-close', // erb 351
    '  option forwardfor', // erb 356
    ...Object.entries(m.timeouts).map(([k, v]) => `  timeout ${k} ${v}`), // erb 368-373
    '',
  );
  const domainFronting = m.disableDomainFronting === false ? [] : domainFrontingRules(m.disableDomainFronting);
  const hsts = m.hsts
    ? // erb 671-673
      [`http-response set-header Strict-Transport-Security max-age=${m.hsts.maxAge};${m.hsts.includeSubdomains ? '\\ includeSubDomains;' : ''}${m.hsts.preload ? '\\ preload;' : ''}`]
    : [];
  const https = [
    `bind ${m.bind}:${m.httpsPort} ${bindTls(m.tls)}`, // erb 561
    ...(m.frontendMaxconn.https ? [`maxconn ${m.frontendMaxconn.https}`] : []),
    'acl route_service_request hdr(X-Cf-Proxy-Signature) -m found', // erb 563
    ...domainFronting,
    ...h10Rules(m), // erb 615-668
    ...hsts,
    'http-request add-header X-Forwarded-Proto "https" if ! { hdr_cnt(X-Forwarded-Proto) gt 0 }', // erb 739-740, the xfp_exists acl inlined
    ...routing(m.backends),
  ];
  lines.push('frontend https-in', ...https.map((l) => `  ${l}`), '');
  if (m.httpPort !== null) {
    const http = [
      `bind ${m.bind}:${m.httpPort}`,
      ...(m.frontendMaxconn.http ? [`maxconn ${m.frontendMaxconn.http}`] : []),
      'http-request add-header X-Forwarded-Proto "http" if ! { hdr_cnt(X-Forwarded-Proto) gt 0 }', // erb 536-537
      ...routing(m.backends),
    ];
    lines.push('frontend http-in', ...http.map((l) => `  ${l}`), '');
  }
  for (const b of m.backends) lines.push(`backend ${b.name}`, `  server ${b.name} ${b.server}`, '');
  return lines.join('\n');
}

/**
 * One line of the crt-list (certs.ttar.erb 23-70): `FILE [ssl-bind-options] [snifilter…]`. The
 * options are written inside brackets, in the template's order (ca-file, crl-file, verify, alpn).
 */
export function crtListLine(e: { certFile: string; caFile: string | null; crlFile: string | null; verify: 'none' | 'optional' | 'required'; alpn: readonly string[]; snis: readonly string[] }): string {
  const opts: string[] = [];
  if (e.caFile) opts.push(`ca-file ${e.caFile}`);
  if (e.crlFile) opts.push(`crl-file ${e.crlFile}`);
  opts.push(`verify ${e.verify}`);
  if (e.alpn.length) opts.push(`alpn ${e.alpn.join(',')}`);
  return `${e.certFile} [${opts.join(' ')}]${e.snis.map((s) => ` ${s}`).join('')}`;
}
