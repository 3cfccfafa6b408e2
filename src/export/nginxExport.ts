// `mtls-edge export nginx`: the edge's configuration as nginx writes client certificates into
// request headers (the nginx convention of issue 22: X-SSL-Client-Cert $ssl_client_escaped_cert,
// X-SSL-Client-Verify SUCCESS | FAILED:reason | NONE, subject and issuer DN). nginx has no
// forwarded_client_cert modes and no per-code ignore lists: what it cannot do is listed at the top
// of nginx.conf, never dropped silently. One server block per TLS configuration (nginx picks the
// certificate by server_name, i.e. the SNI); routes become one ordered regex map on "host path".
// The certificate files hold certificates only (0644); the key goes to key-N.pem alone (0600).
import { join } from 'node:path';
import { certificateBlocks, privateKeyBlock, type ResolvedConfig, type ResolvedTlsProfile } from '../config/resolve.js';
import type { Config } from '../config/schema.js';
import { ExportError, notesForEveryProxy, type ExportFile } from './haproxyExport.js';
import { exportName } from './exportNames.js';
import { NGINX_HEADER_VARIABLES, NGINX_HEADERS } from '../headers/dialects/nginx.js';
import { hstsValue } from '../edge/hsts.js';

const PLAIN = /^[A-Za-z0-9._~:/@%+=,*-]+$/;
function plain(where: string, value: string): string {
  if (!PLAIN.test(value)) throw new ExportError(`${where}: ${JSON.stringify(value)} cannot be written into nginx.conf (spaces, quotes, ; or other special characters): use plain names and paths`);
  return value;
}

/** X_SSL_Client_Verify: every separator an underscore. */
const underscored = (h: string): string => h.replace(/-/g, '_');

/** Every spelling of a dashed header name with at least one dash as underscore (a CGI-style app reads them all as the name itself). */
function underscoreSpellings(h: string): string[] {
  const parts = h.split('-');
  const out: string[] = [];
  for (let mask = 1; mask < 2 ** (parts.length - 1); mask++) out.push(parts.reduce((a, p, k) => `${a}${(mask >> (k - 1)) & 1 ? '_' : '-'}${p}`));
  return out;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * `ssl_verify_client`: required → on, optional → optional, and ignore lists of `all` →
 * optional_no_ca, which also lets a client without a certificate in: under `required` the server
 * block then refuses that client itself (requireCertificate).
 */
function verifyClient(p: ResolvedTlsProfile): string {
  if (p.clientAuth === 'disabled') return 'off';
  if (p.ignore === 'all' && p.caIgnore === 'all') return 'optional_no_ca';
  return p.clientAuth === 'required' ? 'on' : 'optional';
}

/** nginx's own "no certificate" status: answered as 400 "No required SSL certificate was sent", as `ssl_verify_client on` does. */
const requireCertificate = 'if ($ssl_client_verify = NONE) { return 496; }';

/** `listen` takes an IPv6 address in brackets ([::]:8443); `::` alone would read as address and port. */
function listenAddress(bind: string): string {
  const a = plain('bind', bind.replace(/^\[(.*)\]$/, '$1'));
  return a.includes(':') ? `[${a}]` : a;
}

/**
 * disable_domain_fronting (src/edge/stages/domainFronting.ts): with SNI, the Host must be the SNI's
 * name, else 421 (mtls_only: only when a client certificate was sent). nginx's map compares the two
 * with a back-reference; $host is lower-case without port or final dot, where the edge (as HAProxy)
 * keeps the dot (noted in edgeOnlyNotes).
 */
function domainFrontingMap(setting: Config['disable_domain_fronting']): string[] {
  if (setting === false) return [];
  const mtlsOnly = setting === 'mtls_only';
  return [
    `  # disable_domain_fronting: ${String(setting)} (421 in proxy.inc)`,
    `  map "$ssl_server_name $host${mtlsOnly ? ' $ssl_client_verify' : ''}" $mtls_edge_domain_fronting {`,
    '    default 1;',
    '    "~^ " 0;', // no SNI
    ...(mtlsOnly ? ['    "~ NONE$" 0;'] : []), // no client certificate
    `    "~*^(\\S+) \\1${mtlsOnly ? ' ' : '$'}" 0;`,
    '  }',
  ];
}

/** What the edge does that nginx.conf does not, besides what the server blocks and routes add. */
function edgeOnlyNotes(c: Config, profiles: readonly ResolvedTlsProfile[]): string[] {
  const every = notesForEveryProxy(c, profiles, 'nginx');
  const n = [
    ...(c.disable_domain_fronting === false ? [] : ['disable_domain_fronting: nginx reads the Host as $host, which differs from HAProxy\'s host_only for odd spellings: a final dot is dropped (Host "name." with SNI "name" passes, SNI "name." with Host "name." gets 421), "name:443:1" passes, an empty Host or one ending in a tab gets 400; mtls-edge answers as HAProxy']),
    `forwarded_client_cert (${c.forwarded_client_cert}${c.legacy_xfcc_header_mapping ? ', legacy_xfcc_header_mapping' : ''}): nginx has no such modes; it always replaces the client's copies of its four headers and passes the Cloud Foundry ten (X-Forwarded-Client-Cert, X-SSL-Client-*) through untouched`,
    'X-Forwarded-For: nginx appends the client address to the client\'s header with a comma ($proxy_add_x_forwarded_for), mtls-edge adds a header line',
    'a certificate that fails verification: nginx completes the handshake and answers 400 itself (with ssl_verify_client on or optional), mtls-edge closes the connection',
  ];
  if (profiles.some((p) => p.clientAuth === 'required')) n.push('client_auth: required and no client certificate: nginx completes the handshake and answers 400 ("No required SSL certificate was sent"), mtls-edge refuses the handshake (certificate_required alert)');
  n.push(...every.clientAuthFronting);
  if (c.strict_sni) n.push('strict_sni: nginx serves the default server for an unknown name (ssl_reject_handshake in a default server would be needed)');
  if (c.explain_rejections) n.push('explain_rejections: not rendered');
  if (c.headers_with_underscores === 'flag') n.push('headers_with_underscores: flag: nginx leaves header names with underscores out (underscores_in_headers off), mtls-edge passes them and names them (log, flow page); passed by nginx, a client\'s X_SSL_Client_Verify would reach a CGI-style app (WSGI, Rack, PHP) as the X-SSL-Client-Verify nginx sets');
  if (c.headers_with_underscores === 'allow') n.push(`headers_with_underscores: allow: nginx passes header names with underscores, but not the underscore spellings of its certificate headers (${NGINX_HEADERS.map(underscored).join(', ')} and the mixed ones), which a CGI-style app would read as the real ones: proxy.inc clears them; mtls-edge passes them`);
  if (c.hsts) n.push('hsts: nginx also adds Strict-Transport-Security to its own 502/504 when the upstream cannot be reached; mtls-edge only to upstream responses');
  if (c.gorouter.enabled) n.push('gorouter: Gorouter\'s headers are not nginx\'s part');
  n.push(...every.userMappings);
  if (c.admin !== false) n.push('admin: the flow page, /status, the event stream and metrics are mtls-edge\'s own (not rendered)');
  if (c.timeouts.request !== undefined) n.push(`timeouts.request (${c.timeouts.request} s for the whole request): not rendered; nginx has client_header_timeout (timeouts.request_headers) and client_body_timeout between reads`);
  if (c.listener_max_connections.https !== undefined || c.listener_max_connections.http !== undefined) n.push('listener_max_connections: not rendered; nginx has one worker_connections for every listener (and upstream connections count against it)');
  n.push('WebSocket upgrades: not rendered (nginx forwards no Upgrade header here), so neither is timeouts.tunnel');
  return n;
}

export function nginxExport(config: Config, resolved: ResolvedConfig, opts: { readonly outDir: string }): ExportFile[] {
  const outDir = plain('--out', opts.outDir);
  if (config.https_port === 0 || config.http_port === 0) throw new ExportError('https_port/http_port: 0 (any free port) cannot be exported: set a port');
  const bind = listenAddress(config.bind);
  const files: ExportFile[] = [];
  const notes = edgeOnlyNotes(config, resolved.tlsProfiles);
  const pem = (b: Buffer): string => (b.toString('latin1').endsWith('\n') ? b.toString('latin1') : `${b.toString('latin1')}\n`);
  const hsts = hstsValue(config.hsts);
  const servers: string[] = [];
  resolved.tlsProfiles.forEach((p, i) => {
    // A `cert:` file without `key:` holds the key too: only its certificates go into the 0644 file.
    files.push({ name: exportName('cert', i), content: certificateBlocks(p.certPem), secret: false });
    files.push({ name: exportName('key', i), content: privateKeyBlock(p.keyPem), secret: true });
    const lines = [
      `listen ${bind}:${config.https_port} ssl${i === 0 ? ' default_server' : ''};`,
      `server_name ${p.hosts.map((h, j) => (h === '*' ? '_' : plain(`tls[${i}].hosts[${j}]`, h))).join(' ')};`,
      `ssl_certificate ${join(outDir, exportName('cert', i))};`,
      `ssl_certificate_key ${join(outDir, exportName('key', i))};`,
      'ssl_protocols TLSv1.2 TLSv1.3;',
      'ssl_session_tickets off;',
    ];
    const verify = verifyClient(p);
    if (verify !== 'off') {
      files.push({ name: exportName('ca-file', i), content: p.trustPem, secret: false });
      lines.push(`ssl_client_certificate ${join(outDir, exportName('ca-file', i))};`, `ssl_verify_client ${verify};`, 'ssl_verify_depth 100;');
      if (p.crlPem.length) {
        files.push({ name: exportName('crl-file', i), content: p.crlPem.map(pem).join(''), secret: false });
        lines.push(`ssl_crl ${join(outDir, exportName('crl-file', i))};`);
      }
      // optional_no_ca lets a client without a certificate in; `required` must still refuse it.
      if (verify === 'optional_no_ca' && p.clientAuth === 'required') lines.push(requireCertificate);
      // nginx's ngx_ssl_verify_error_optional: the only errors optional_no_ca lets pass.
      if (verify === 'optional_no_ca') notes.push(`tls[${i}] ignore_errors: all: nginx's optional_no_ca lets only an untrusted issuer pass (verify codes 2, 18, 19, 20, 21); a certificate with another error (expired 10, revoked 23, …) gets 400`);
      if (verify !== 'optional_no_ca' && (p.ignore === 'all' || p.ignore.size > 0 || p.caIgnore === 'all' || p.caIgnore.size > 0)) {
        notes.push(`tls[${i}] ignore_errors/ca_ignore_errors: nginx accepts no listed verify codes (only optional_no_ca, for "all"); not rendered: a certificate with only those errors is refused`);
      }
    }
    // Only on upstream answers, as the edge (an empty value adds no header): $upstream_status is
    // empty for nginx's own return (400, 421, 496, 503).
    if (hsts) lines.push('add_header Strict-Transport-Security $mtls_edge_hsts always;');
    servers.push(['  server {', ...lines.map((l) => `    ${l}`), '    include proxy.inc;', '  }'].join('\n'));
  });
  const routes = resolved.routes.map((r, i) => {
    let target: string;
    if (r.upstream === 'echo') {
      notes.push(`routes[${i}] goes to the built-in echo upstream: nginx sends it to 127.0.0.1:3000, where \`mtls-edge echo\` listens`);
      target = 'http://127.0.0.1:3000';
    } else {
      const u = new URL(r.upstream);
      if (r.tls) notes.push(`routes[${i}].tls: upstream TLS settings are not rendered (nginx proxy_ssl_*)`);
      target = plain(`routes[${i}].upstream`, `${u.protocol}//${u.host}`);
    }
    const host = r.host.toLowerCase().replace(/\.$/, '');
    const hostRe = host === '*' ? '[^ ]*' : host.startsWith('*.') ? `[^ ]+${escapeRegex(plain(`routes[${i}].host`, host.slice(1)))}` : escapeRegex(plain(`routes[${i}].host`, host));
    // $request_uri of an absolute-form target without a path (`http://h?q`, `http://h`) is `?q` or
    // empty: the edge routes that as `/`.
    const pathRe = r.path === '/' ? '([/?]|$)' : `${escapeRegex(plain(`routes[${i}].path`, r.path))}${r.path.endsWith('/') ? '' : '([/?]|$)'}`;
    return `    "~^${hostRe} ${pathRe}" ${target};`;
  });
  const cert = NGINX_HEADER_VARIABLES.map(([h, v]) => `proxy_set_header ${h} ${v};`);
  // With underscores passed, a client's X_SSL_Client_Verify (or X-SSL_Client-Verify) would reach a
  // CGI-style app as HTTP_X_SSL_CLIENT_VERIFY, next to or instead of the real one: cleared by name.
  const spoofable = config.headers_with_underscores === 'allow' ? NGINX_HEADERS.flatMap(underscoreSpellings).map((h) => `proxy_set_header ${h} "";`) : [];
  // disable_domain_fronting: a Host is required on every request (HTTP/1.0 too), then SNI = Host.
  // An absolute-form target must name the Host (src/edge/stages/absoluteForm.ts): nginx would route
  // on its authority and send the client's Host to that route's upstream.
  const target = ['  if ($mtls_edge_bad_target) { return 400; }'];
  const fronting = config.disable_domain_fronting === false ? [] : [
    '  if ($http_host = "") { return 400 "400 Bad Request: missing required Host header"; }',
    '  if ($mtls_edge_domain_fronting) { return 421; }',
  ];
  files.push({
    name: 'proxy.inc',
    content: [
      '# The location every server block shares: check, route, forward, set the client-certificate headers.',
      'location / {',
      ...target,
      ...fronting,
      '  if ($mtls_edge_upstream = "") { return 503; }',
      '  proxy_pass $mtls_edge_upstream;',
      '  proxy_http_version 1.1;',
      '  proxy_set_header Connection "";',
      '  proxy_set_header Host $http_host;',
      '  proxy_set_header X-Forwarded-Proto $mtls_edge_xfp;',
      '  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      ...cert.map((l) => `  ${l}`),
      ...(spoofable.length ? ['  # headers_with_underscores: allow: the underscore spellings of the headers above, which a CGI-style app reads as them', ...spoofable.map((l) => `  ${l}`)] : []),
      '}',
      '',
    ].join('\n'),
    secret: false,
  });
  const http = config.http_port === false ? [] : [
    '  server {',
    `    listen ${bind}:${config.http_port} default_server;`,
    '    server_name _;',
    '    include proxy.inc;',
    '  }',
  ];
  const conf = [
    '# What mtls-edge does that this configuration does not (not expressible in nginx, or done differently):',
    ...notes.map((n) => `#   - ${n}`),
    '',
    // workers: N processes sharing the ports, each with its own connection cap, as nginx's workers.
    `worker_processes ${config.workers}; # workers`,
    'daemon off;',
    `pid ${join(outDir, 'nginx.pid')};`,
    'error_log stderr warn;',
    `events { worker_connections ${config.max_connections}; }`,
    'http {',
    '  access_log off;',
    // Writable temp folders next to the configuration, so nginx runs without root.
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(outDir, `${t}_temp`)};`),
    `  client_header_timeout ${config.timeouts.request_headers}s;`,
    `  client_body_timeout ${config.timeouts.client}s;`,
    `  send_timeout ${config.timeouts.client}s;`,
    `  keepalive_timeout ${config.timeouts.keep_alive}s;`,
    `  proxy_connect_timeout ${config.timeouts.connect}s;`,
    `  proxy_read_timeout ${config.timeouts.server}s;`,
    `  large_client_header_buffers 4 ${Math.ceil(config.max_header_size / 1024)}k;`,
    // headers_with_underscores: allow passes them (on; proxy.inc clears the certificate headers'
    // spellings); flag and drop: off, with ignore_invalid_headers on every such header is left out.
    `  underscores_in_headers ${config.headers_with_underscores === 'allow' ? 'on' : 'off'}; # headers_with_underscores: ${config.headers_with_underscores}`,
    '  ignore_invalid_headers on;',
    '  map $http_x_forwarded_proto $mtls_edge_xfp { "" $scheme; default $http_x_forwarded_proto; }',
    ...(hsts ? ['  # hsts (add_header in the HTTPS server blocks)', `  map $upstream_status $mtls_edge_hsts { "" ""; default "${hsts}"; }`] : []),
    // Request targets the edge refuses with 400 (src/edge/stages/absoluteForm.ts): a fragment, an
    // absolute-form target with a query but no path, another scheme, an authority that is not the Host.
    '  map "$request $http_host" $mtls_edge_bad_target {',
    '    default 0;',
    '    "~^\\S+ \\S*#" 1;', // a fragment
    '    "~*^\\S+ [a-z][a-z0-9+.-]*://[^/?# ]*\\?" 1;', // a query without a path
    '    "~*^\\S+ https?://([^/?# ]*)(?:[/?]\\S*)? HTTP/\\S+ \\1$" 0;',
    '    "~*^\\S+ [a-z][a-z0-9+.-]*://" 1;',
    '  }',
    ...domainFrontingMap(config.disable_domain_fronting),
    // $request_uri: the path as sent, as the edge (and HAProxy's path_beg) routes; $uri is decoded
    // and its dot segments resolved, so /app/../admin would go elsewhere than through the edge.
    '  map "$host $request_uri" $mtls_edge_upstream {',
    '    default "";',
    ...routes,
    '  }',
    ...servers,
    ...http,
    '}',
    '',
  ].join('\n');
  files.unshift({ name: 'nginx.conf', content: conf, secret: false });
  return files;
}
