// The configuration file's shape: one zod definition that validates the YAML, types the code and
// generates the JSON Schema shipped for editors (config.schema.json). Keys are snake_case, as in the
// Cloud Foundry HAProxy job's properties, so BTP users recognise them.
import { z } from 'zod';
import { FORWARDED_CLIENT_CERT_MODES } from '../headers/modeTable.js';
import { UNDERSCORE_HEADER_ACTIONS } from '../edge/stages/underscoreHeaders.js';
import { DIALECTS } from '../headers/dialects/dialects.js';
import { ENVOY_DETAILS, ENVOY_MODES } from '../headers/dialects/envoy.js';
import { TRAEFIK_MODES } from '../headers/dialects/traefik.js';

const port = z.number().int().min(0).max(65535);
const filePath = z.string().min(1, 'a file path is required');
const filePaths = z.union([filePath, z.array(filePath)]).transform((v) => (Array.isArray(v) ? v : [v]));

const forwardedClientCertMode = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(FORWARDED_CLIENT_CERT_MODES, { error: `must be one of ${FORWARDED_CLIENT_CERT_MODES.join(', ')}` }))
  .describe(`How the ten client-certificate headers are treated (case-insensitive): ${FORWARDED_CLIENT_CERT_MODES.join(' | ')}.`);

const dialect = z
  .enum(DIALECTS, { error: `must be one of ${DIALECTS.join(', ')}` })
  .describe(`Which proxy's client-certificate headers the app gets: ${DIALECTS.join(' | ')} (docs/dialects.md).`);

const lowerEnum = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(values, { error: `must be one of ${values.join(', ')}` }));

const dialectSettings = {
  envoy: z
    .strictObject({
      forward_client_cert_details: lowerEnum(ENVOY_MODES).default('sanitize_set').describe(`Envoy's forward_client_cert_details (case-insensitive): ${ENVOY_MODES.join(' | ')}.`),
      set_current_client_cert_details: z
        .strictObject(Object.fromEntries(ENVOY_DETAILS.map((d) => [d, z.boolean().default(d !== 'chain')])) as Record<(typeof ENVOY_DETAILS)[number], z.ZodDefault<z.ZodBoolean>>)
        .prefault({})
        .describe('Which fields the XFCC element carries besides By and Hash (default: all but chain).'),
    })
    .prefault({})
    .describe('Settings of the envoy dialect (X-Forwarded-Client-Cert).'),
  rfc9440: z
    .strictObject({ chain: z.boolean().default(true).describe('Also send Client-Cert-Chain.') })
    .prefault({})
    .describe('Settings of the rfc9440 dialect (Client-Cert, Client-Cert-Chain).'),
  traefik: z
    .strictObject({
      forwarded_headers: lowerEnum(TRAEFIK_MODES).default('untrusted').describe('untrusted: the entry point strips the client\'s copies (Traefik\'s default) | insecure: forwardedHeaders.insecure.'),
      pem: z.boolean().default(true).describe('passTLSClientCert pem: X-Forwarded-Tls-Client-Cert.'),
      info: z.boolean().default(true).describe('passTLSClientCert info (every field): X-Forwarded-Tls-Client-Cert-Info.'),
    })
    .prefault({})
    .describe('Settings of the traefik dialect.'),
};

const ignoreErrors = z
  .union([
    z.literal('all'),
    z.array(z.number().int().min(1).max(100)),
    z.string().regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'use a comma-separated list of OpenSSL codes such as "2,10,18", or "all"'),
  ])
  .transform((v): 'all' | number[] => (v === 'all' ? 'all' : typeof v === 'string' ? v.split(',').map((s) => Number(s.trim())) : v));

/**
 * HAProxy's CF job uses 64,000, but a proxied connection holds two descriptors (client and
 * upstream) and an idle TLS connection 50–100 KB: 64,000 would run out of descriptors (Node raises
 * the soft limit to the hard one at start; Linux often allows far more than 128,000, macOS far
 * less) or memory before the cap. 10,000 is about 20,000 descriptors and at most ~1 GB.
 */
const DEFAULT_MAX_CONNECTIONS = 10_000;

export const CLIENT_AUTH_MODES = ['disabled', 'optional', 'required'] as const;
export const LOG_FORMATS = ['pretty', 'json'] as const;
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export const ACCESS_LOG_FORMATS = ['cpi', 'haproxy', 'off'] as const;

export const tlsConfigSchema = z.strictObject({
  name: z.string().min(1).optional().describe('Label shown in logs and on the flow page.'),
  hosts: z
    .array(z.string().min(1))
    .default(['*'])
    .describe('SNI patterns (crt-list snifilter): exact names, "*.example.com", or "*" for any.'),
  cert: filePath.describe('PEM server certificate, followed by its intermediates (may also hold the key).'),
  key: filePath.optional().describe('PEM private key of the server certificate (omit when it is in `cert`).'),
  client_auth: z.enum(CLIENT_AUTH_MODES).optional().describe('Default: optional when a trust list is set, else disabled.'),
  trust: filePaths.default([]).describe('PEM files of CA certificates whose clients are accepted (ca-file).'),
  crl: filePaths.default([]).describe('PEM CRL files (crl-file); every CA in a chain then needs a CRL.'),
  ignore_errors: ignoreErrors.default([]).describe('OpenSSL verify codes to accept anyway (crt-ignore-err / ca-ignore-err).'),
  ca_ignore_errors: ignoreErrors
    .optional()
    .describe('Verify codes to accept at depth > 0 (the CAs of the chain; ca-ignore-err). When set, ignore_errors applies to depth 0 only (crt-ignore-err); when absent, ignore_errors applies to both.'),
  alpn: z.array(z.enum(['http/1.1'])).default(['http/1.1']),
  dialect: dialect.optional().describe('This TLS configuration\'s header dialect; default: the top-level dialect.'),
});

const upstreamTlsSchema = z.strictObject({
  ca: filePaths.optional().describe('CA certificates to verify the upstream with (default: system CAs).'),
  cert: filePath.optional().describe('Client certificate presented to the upstream (mTLS to the backend).'),
  key: filePath.optional(),
  reject_unauthorized: z.boolean().default(true),
  servername: z.string().optional(),
});

export const routeSchema = z.strictObject({
  host: z.string().min(1).default('*').describe('Host pattern: exact, "*.example.com" or "*".'),
  path: z.string().startsWith('/', 'a path prefix starts with "/"').default('/'),
  upstream: z
    .string()
    .refine((u) => u === 'echo' || /^https?:\/\/[^/]+\/?$/.test(u), 'use "echo" or an origin such as http://127.0.0.1:3000')
    // Neither HAProxy's server lines nor Gorouter's routes carry credentials, undici would drop them
    // silently, and the upstream's name appears in logs, the flow page and x-mtls-edge-error.
    .refine((u) => !/^https?:\/\/[^/]*@/.test(u), 'credentials (user:password@) in an upstream URL are never sent; remove them (the app behind the edge sees only what the client sends)')
    .describe('"echo" (the built-in echo upstream) or http(s)://host:port.'),
  tls: upstreamTlsSchema.optional(),
});

export const configSchema = z.strictObject({
  bind: z.string().default('127.0.0.1').describe('Address both listeners bind to: loopback by default; 0.0.0.0 for other machines (the plain-HTTP port then passes any client\'s certificate headers, as HAProxy\'s does).'),
  https_port: port.default(8443),
  http_port: z.union([port, z.literal(false)]).default(8080).describe('false turns the plain-HTTP listener off.'),
  forwarded_client_cert: forwardedClientCertMode.default('sanitize_set'),
  legacy_xfcc_header_mapping: z.boolean().default(false),
  dialect: dialect.default('cf'),
  ...dialectSettings,
  strict_sni: z.boolean().default(false),
  tls: z.array(tlsConfigSchema).optional().describe('TLS configurations; the first is the default for unmatched SNI.'),
  routes: z.array(routeSchema).optional().describe('Routes in order; the first match wins. Default: everything to echo.'),
  disable_domain_fronting: z.union([z.boolean(), z.literal('mtls_only')]).default(false),
  disable_client_auth_fronting: z
    .boolean()
    .default(true)
    .describe('421 when the Host belongs to a TLS configuration that checks client certificates more strictly than the one the SNI selected. HAProxy has no such check: false reproduces it.'),
  headers_with_underscores: z
    .enum(UNDERSCORE_HEADER_ACTIONS, { error: `must be one of ${UNDERSCORE_HEADER_ACTIONS.join(', ')}` })
    .default('flag')
    .describe('Header names with underscores (read as dashed names by WSGI/Rack/PHP): allow (pass, as HAProxy) | flag (pass and name them in the log and flow page) | drop (remove them).'),
  hsts: z
    .strictObject({
      max_age: z.number().int().min(0),
      include_subdomains: z.boolean().default(false),
      preload: z.boolean().default(false),
    })
    .nullable()
    .default(null),
  timeouts: z
    .strictObject({
      connect: z.number().positive().default(5),
      client: z.number().positive().default(30),
      server: z.number().positive().default(30),
      tunnel: z.number().positive().default(3600),
      keep_alive: z.number().positive().default(6),
      request_headers: z.number().positive().default(5),
      request: z
        .number()
        .positive()
        .optional()
        .describe('Whole request, headers and body (HAProxy `timeout http-request` with `option http-buffer-request`); default: the client timeout. 408 when it expires.'),
    })
    .prefault({})
    .refine((t) => t.request === undefined || t.request >= t.request_headers, {
      path: ['request'],
      message: 'the whole-request timeout must be at least timeouts.request_headers: raise timeouts.request or lower timeouts.request_headers',
    })
    .describe('Seconds, as the HAProxy job sets them.'),
  max_connections: z
    .number()
    .int()
    .min(1)
    .default(DEFAULT_MAX_CONNECTIONS)
    .describe('Client connections open at once over both listeners (ha_proxy.max_connections, HAProxy `maxconn`); more are closed at accept.'),
  listener_max_connections: z
    .strictObject({
      https: z.number().int().min(1).optional().describe('Cap of the HTTPS listener (frontend `maxconn`); default: max_connections.'),
      http: z.number().int().min(1).optional().describe('Cap of the plain-HTTP listener; default: max_connections.'),
    })
    .prefault({})
    .describe('Per-listener caps, each at most max_connections.'),
  max_header_size: z.number().int().min(1024).max(1024 * 1024).default(15360).describe('Bytes of request headers; larger → 431.'),
  gorouter: z
    .strictObject({ enabled: z.boolean().default(false) })
    .prefault({})
    .describe('Emulate Gorouter: X-Request-Start, X-Vcap-Request-Id, strip X-CF-Application* headers.'),
  certificate_user_mappings: z
    .array(
      z.strictObject({
        user: z.string().min(1),
        certificate: filePath.optional().describe('PEM certificate that maps to the user (exact match).'),
        subject_cn: z.string().optional().describe('Or: any certificate with this subject CN.'),
      }),
    )
    .default([]),
  explain_rejections: z.boolean().default(false),
  log: z
    .strictObject({
      format: z.enum(LOG_FORMATS).optional(),
      level: z.enum(LOG_LEVELS).default('info'),
      access: z.enum(ACCESS_LOG_FORMATS).default('cpi'),
    })
    .prefault({}),
  admin: z
    .union([
      z.literal(false),
      z.strictObject({
        host: z.string().default('127.0.0.1'),
        port: port.default(9901),
        token: z
          .string()
          .min(16, 'use at least 16 characters, e.g. the output of `node -e "console.log(crypto.randomBytes(24).toString(\'hex\'))"`')
          .optional()
          .describe('Required when host is not loopback (or set MTLS_EDGE_ADMIN_TOKEN): send it as "Authorization: Bearer <token>", or open /?token=<token> once in a browser.'),
        allowed_hosts: z
          .array(z.string().min(1))
          .default([])
          .describe('Host names (besides loopback and the bound address) the admin listener answers to; others get 421 (DNS rebinding).'),
      }),
    ])
    .default({ host: '127.0.0.1', port: 9901, allowed_hosts: [] }),
  ring_size: z.number().int().min(10).max(100000).default(500),
  expiry_warning_days: z.number().int().min(0).default(30),
  workers: z.number().int().min(1).max(64).default(1),
  pki_dir: z.string().default('certs').describe('Where the dev PKI is generated when no TLS configuration is given.'),
}).superRefine((c, ctx) => {
  for (const listener of ['https', 'http'] as const) {
    const cap = c.listener_max_connections[listener];
    if (cap !== undefined && cap > c.max_connections) {
      ctx.addIssue({
        code: 'custom',
        path: ['listener_max_connections', listener],
        message: `${cap} is above max_connections (${c.max_connections}), which caps both listeners together: lower it or raise max_connections`,
      });
    }
  }
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type TlsConfig = z.output<typeof tlsConfigSchema>;
export type ClientAuthMode = (typeof CLIENT_AUTH_MODES)[number];
