// `mtls-edge export nginx`: the edge's configuration as nginx writes client certificates into
// request headers (the nginx convention of issue 22: X-SSL-Client-Cert $ssl_client_escaped_cert,
// X-SSL-Client-Verify SUCCESS | FAILED:reason | NONE, subject and issuer DN). nginx has no
// forwarded_client_cert modes and no per-code ignore lists: what it cannot do is listed at the top
// of nginx.conf. One server block per TLS configuration (nginx picks the certificate by
// server_name, i.e. the SNI); routes become one ordered regex map on "host path".
import { join } from 'node:path';
import type { ResolvedConfig, ResolvedTlsProfile } from '../config/resolve.js';
import type { Config } from '../config/schema.js';
import { ExportError, type ExportFile } from './haproxyExport.js';
import { NGINX_HEADER_VARIABLES } from '../headers/dialects/nginx.js';

/** The headers nginx sets from the client certificate, and the variable each carries. */

const PLAIN = /^[A-Za-z0-9._~:/@%+=,*-]+$/;
function plain(where: string, value: string): string {
  if (!PLAIN.test(value)) throw new ExportError(`${where}: ${JSON.stringify(value)} cannot be written into nginx.conf (spaces, quotes, ; or other special characters): use plain names and paths`);
  return value;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** `ssl_verify_client`: required → on, optional → optional, and an ignore list of `all` → optional_no_ca. */
function verifyClient(p: ResolvedTlsProfile): string {
  if (p.clientAuth === 'disabled') return 'off';
  if (p.ignore === 'all' && p.caIgnore === 'all') return 'optional_no_ca';
  return p.clientAuth === 'required' ? 'on' : 'optional';
}

export function nginxExport(config: Config, resolved: ResolvedConfig, opts: { readonly outDir: string }): ExportFile[] {
  const outDir = plain('--out', opts.outDir);
  if (config.https_port === 0 || config.http_port === 0) throw new ExportError('https_port/http_port: 0 (any free port) cannot be exported: set a port');
  const files: ExportFile[] = [];
  const notes: string[] = [
    `forwarded_client_cert (${config.forwarded_client_cert}): nginx has no such modes; it always replaces the client's copies of its four headers and passes the Cloud Foundry ten (X-Forwarded-Client-Cert, X-SSL-Client-*) through untouched`,
    'X-Forwarded-For: nginx appends the client address to the client\'s header with a comma ($proxy_add_x_forwarded_for), mtls-edge adds a header line',
    'a certificate that fails verification: nginx completes the handshake and answers 400 itself (with ssl_verify_client on or optional), mtls-edge closes the connection',
  ];
  const pem = (b: Buffer): string => (b.toString('latin1').endsWith('\n') ? b.toString('latin1') : `${b.toString('latin1')}\n`);
  const servers: string[] = [];
  resolved.tlsProfiles.forEach((p, i) => {
    files.push({ name: `cert-${i}.pem`, content: pem(p.certPem), secret: false });
    files.push({ name: `key-${i}.pem`, content: pem(p.keyPem), secret: true });
    const lines = [
      `listen ${plain('bind', config.bind)}:${config.https_port} ssl${i === 0 ? ' default_server' : ''};`,
      `server_name ${p.hosts.map((h, j) => (h === '*' ? '_' : plain(`tls[${i}].hosts[${j}]`, h))).join(' ')};`,
      `ssl_certificate ${join(outDir, `cert-${i}.pem`)};`,
      `ssl_certificate_key ${join(outDir, `key-${i}.pem`)};`,
      'ssl_protocols TLSv1.2 TLSv1.3;',
      'ssl_session_tickets off;',
    ];
    const verify = verifyClient(p);
    if (verify !== 'off') {
      files.push({ name: `ca-file-${i}.pem`, content: p.trustPem, secret: false });
      lines.push(`ssl_client_certificate ${join(outDir, `ca-file-${i}.pem`)};`, `ssl_verify_client ${verify};`, 'ssl_verify_depth 100;');
      if (p.crlPem.length) {
        files.push({ name: `crl-file-${i}.pem`, content: p.crlPem.map(pem).join(''), secret: false });
        lines.push(`ssl_crl ${join(outDir, `crl-file-${i}.pem`)};`);
      }
      if (verify !== 'optional_no_ca' && (p.ignore === 'all' || p.ignore.size > 0 || p.caIgnore === 'all' || p.caIgnore.size > 0)) {
        notes.push(`tls[${i}] ignore_errors/ca_ignore_errors: nginx accepts no listed verify codes (only optional_no_ca, for "all"); not rendered`);
      }
    }
    servers.push(['  server {', ...lines.map((l) => `    ${l}`), '    include proxy.inc;', '  }'].join('\n'));
  });
  if (config.strict_sni) notes.push('strict_sni: nginx serves the default server for an unknown name (ssl_reject_handshake in a default server would be needed)');
  if (config.explain_rejections) notes.push('explain_rejections: not rendered');
  if (config.gorouter.enabled) notes.push('gorouter: Gorouter\'s headers are not nginx\'s part');
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
    const pathRe = r.path === '/' ? '/' : `${escapeRegex(plain(`routes[${i}].path`, r.path))}${r.path.endsWith('/') ? '' : '(/|$)'}`;
    return `    "~^${hostRe} ${pathRe}" ${target};`;
  });
  const cert = NGINX_HEADER_VARIABLES.map(([h, v]) => `proxy_set_header ${h} ${v};`);
  files.push({
    name: 'proxy.inc',
    content: [
      '# The location every server block shares: route, forward, set the client-certificate headers.',
      'location / {',
      '  if ($mtls_edge_upstream = "") { return 503; }',
      '  proxy_pass $mtls_edge_upstream;',
      '  proxy_http_version 1.1;',
      '  proxy_set_header Connection "";',
      '  proxy_set_header Host $http_host;',
      '  proxy_set_header X-Forwarded-Proto $mtls_edge_xfp;',
      '  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      ...cert.map((l) => `  ${l}`),
      '}',
      '',
    ].join('\n'),
    secret: false,
  });
  const http = config.http_port === false ? [] : [
    '  server {',
    `    listen ${config.bind}:${config.http_port} default_server;`,
    '    server_name _;',
    '    include proxy.inc;',
    '  }',
  ];
  const conf = [
    '# What mtls-edge does that this configuration does not (not expressible in nginx, or done differently):',
    ...notes.map((n) => `#   - ${n}`),
    '',
    'worker_processes 1;',
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
    '  map $http_x_forwarded_proto $mtls_edge_xfp { "" $scheme; default $http_x_forwarded_proto; }',
    '  map "$host $uri" $mtls_edge_upstream {',
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
