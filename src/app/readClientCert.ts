// readClientCert: one request's headers, in the dialect of the edge in front of the app, to one
// ClientCertResult. Total: any input, however hostile, gives a result; nothing throws.
import { looksLikeCf, readCf } from './dialects/cf.js';
import { ENVOY_ELEMENTS, looksLikeEnvoy, readEnvoy, type EnvoyElement } from './dialects/envoy.js';
import { looksLikeNginx, readNginx } from './dialects/nginx.js';
import { looksLikeRfc9440, readRfc9440 } from './dialects/rfc9440.js';
import { looksLikeTraefik, readTraefik } from './dialects/traefik.js';
import { headerView, ReadError, type HeaderSource, type HeaderView } from './headerSource.js';
import { absent, unreadable, DIALECTS, type ClientCertResult, type Dialect } from './result.js';

export interface ReadOptions {
  /**
   * The dialect of the edge in front of the app (default `cf`). `auto` detects it from the headers
   * and refuses (unreadable) when headers of more than one dialect are present. It is for exploring
   * only, never for deciding access: an edge removes only its own dialect's headers, so a client can
   * send another dialect's and choose what `auto` reads (requireClientCert refuses it; docs/app-reader.md,
   * "Which headers to trust").
   */
  readonly dialect?: Dialect | 'auto';
  /** cf only: the edge runs with legacy_xfcc_header_mapping (DN headers as text, not base64). */
  readonly legacyXfccHeaderMapping?: boolean;
  /**
   * envoy only: which element of X-Forwarded-Client-Cert the edge set. `only` (default): the header
   * must hold exactly one, as behind one edge with sanitize_set. `first`: the edge's element is the
   * first and proxies after it append theirs (Kyma: the Istio sidecar). Never the last: a client
   * controls what follows the edge's element (a URI or DNS SAN holding ",Key=").
   */
  readonly envoyElement?: EnvoyElement;
}

/** Detection order of `auto`, also the order dialects are named in its messages. */
const DETECT: readonly (readonly [Dialect, (h: HeaderView) => boolean])[] = [
  ['rfc9440', looksLikeRfc9440],
  ['envoy', looksLikeEnvoy],
  ['cf', looksLikeCf],
  ['nginx', looksLikeNginx],
  ['traefik', looksLikeTraefik],
];

function read(h: HeaderView, dialect: Dialect, opts: ReadOptions): ClientCertResult {
  switch (dialect) {
    case 'cf':
      return readCf(h, { legacyXfccHeaderMapping: opts.legacyXfccHeaderMapping === true });
    case 'envoy':
      return readEnvoy(h, opts.envoyElement === 'first' ? 'first' : 'only');
    case 'rfc9440':
      return readRfc9440(h);
    case 'nginx':
      return readNginx(h);
    case 'traefik':
      return readTraefik(h);
  }
}

export function readClientCert(source: HeaderSource, options: ReadOptions = {}): ClientCertResult {
  const wanted = options.dialect ?? 'cf';
  let dialect: Dialect | null = wanted === 'auto' ? null : wanted;
  try {
    if (wanted !== 'auto' && !DIALECTS.includes(wanted)) {
      return unreadable(null, `unknown dialect (expected auto or one of ${DIALECTS.join(', ')})`);
    }
    if (options.envoyElement !== undefined && !ENVOY_ELEMENTS.includes(options.envoyElement)) {
      return unreadable(null, `unknown envoyElement (expected ${ENVOY_ELEMENTS.join(' or ')})`);
    }
    const h = headerView(source);
    if (wanted === 'auto') {
      const found = DETECT.filter(([, looks]) => looks(h)).map(([d]) => d);
      if (found.length === 0) return absent(null, 'no client-certificate headers of any dialect: the client sent no certificate');
      if (found.length > 1) return unreadable(null, `headers of several dialects (${found.join(', ')}): name the dialect of your edge`);
      dialect = found[0]!;
    }
    return read(h, dialect!, options);
  } catch (e) {
    // ReadError: the reader's own message. Anything else is a defect here, but still a result.
    return unreadable(dialect, e instanceof ReadError ? e.message : 'the headers could not be read');
  }
}
