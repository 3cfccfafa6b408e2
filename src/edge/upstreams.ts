// One undici Pool per upstream origin and upstream TLS settings: keep-alive connections reused across
// requests and clients. The TLS settings are part of the key, so a reload that changes a route's CA,
// client certificate, servername or verification gets a new pool instead of the old connections.
import { createHash } from 'node:crypto';
import { buildConnector, Pool } from 'undici';
import { upstreamServername, upstreamTlsOptions } from './upstreamTls.js';
import type { ResolvedUpstreamTls } from '../config/resolve.js';

export interface UpstreamTimeouts {
  readonly connectMs: number;
  readonly serverMs: number;
  readonly keepAliveMs: number;
  /**
   * max_header_size. undici counts a head's names and values only, so at this size it refuses
   * only heads the proxy refuses anyway (responseHead.ts); its default (16 KiB) would refuse heads a
   * larger max_header_size lets HAProxy relay.
   */
  readonly maxHeaderSize?: number;
}

/** What a pool is for: the origin dialled and the TLS settings used towards it. */
export interface UpstreamTarget {
  readonly origin: string;
  readonly route: { readonly tls?: ResolvedUpstreamTls };
}

/**
 * undici takes a request's TLS server name from its Host header unless the request names one, and
 * opens a new connection when it changes: the client would choose the SNI and the name checked in
 * the upstream's certificate (HAProxy sends none it did not configure). So every request on a pool
 * names the same one (this), and the pool's connector sets the real SNI (none for an IP address).
 */
export function requestServername(target: UpstreamTarget): string {
  let name = requestServernames.get(target);
  if (name === undefined) {
    const host = new URL(target.origin).hostname;
    name = upstreamServername(target.route.tls, host) ?? host;
    requestServernames.set(target, name);
  }
  return name;
}
const requestServernames = new WeakMap<UpstreamTarget, string>();

// A route's ResolvedUpstreamTls is built once per configuration load, so its fingerprint is
// computed once per load and not per request.
const fingerprints = new WeakMap<ResolvedUpstreamTls, string>();

/** A digest of everything in the TLS settings that changes how a connection is made. */
function tlsFingerprint(tls: ResolvedUpstreamTls | undefined): string {
  if (!tls) return 'plain-defaults';
  let fp = fingerprints.get(tls);
  if (fp === undefined) {
    const h = createHash('sha256');
    const part = (label: string, value: Buffer | string | undefined): void => {
      // Length-prefixed, so no two different settings can hash the same byte sequence.
      const bytes = value === undefined ? Buffer.alloc(0) : Buffer.from(value);
      h.update(`${label}:${value === undefined ? '-' : bytes.length}:`);
      h.update(bytes);
    };
    part('ca-count', String(tls.ca?.length ?? -1));
    for (const ca of tls.ca ?? []) part('ca', ca);
    part('cert', tls.cert);
    part('key', tls.key);
    part('servername', tls.servername);
    part('reject', String(tls.rejectUnauthorized));
    fp = h.digest('hex');
    fingerprints.set(tls, fp);
  }
  return fp;
}

/** A connector that always uses this SNI, whatever the request named (see requestServername). */
function withServername(connector: buildConnector.connector, servername: string | undefined): buildConnector.connector {
  return (options, callback) => connector({ ...options, servername }, callback);
}

function poolKey(origin: string, tls: ResolvedUpstreamTls | undefined): string {
  return `${origin} ${tlsFingerprint(tls)}`;
}

// A route target lives as long as its configuration: its key is built once, not per request (a
// new string per request would also be hashed again by every Map lookup).
const targetKeys = new WeakMap<UpstreamTarget, string>();
function targetKey(target: UpstreamTarget): string {
  let key = targetKeys.get(target);
  if (key === undefined) {
    key = poolKey(target.origin, target.route.tls);
    targetKeys.set(target, key);
  }
  return key;
}

export class Upstreams {
  private readonly pools = new Map<string, Pool>();
  constructor(private readonly timeouts: UpstreamTimeouts) {}

  /** The pool for a route's upstream. */
  poolFor(target: UpstreamTarget): Pool {
    return this.pools.get(targetKey(target)) ?? this.pool(target.origin, target.route.tls);
  }

  pool(origin: string, tls: ResolvedUpstreamTls | undefined): Pool {
    const key = poolKey(origin, tls);
    let pool = this.pools.get(key);
    if (!pool) {
      const { protocol, hostname } = new URL(origin);
      const tlsOptions = tls ? upstreamTlsOptions(tls, hostname) : null;
      const connectMs = this.timeouts.connectMs;
      pool = new Pool(origin, {
        pipelining: 1,
        keepAliveTimeout: this.timeouts.keepAliveMs,
        headersTimeout: this.timeouts.serverMs,
        bodyTimeout: this.timeouts.serverMs,
        ...(this.timeouts.maxHeaderSize ? { maxHeaderSize: this.timeouts.maxHeaderSize } : {}),
        // An https origin without a route `tls` still gets its SNI from here, not from the request's
        // servername: none for an IP address (RFC 6066; HAProxy's `ssl` server line sends none either).
        connect: tlsOptions
          ? withServername(buildConnector({ timeout: connectMs, ...tlsOptions }), tlsOptions.servername)
          : protocol === 'https:'
            ? withServername(buildConnector({ timeout: connectMs }), upstreamServername(undefined, hostname))
            : { timeout: connectMs },
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Pools open now (for tests and status). */
  get size(): number {
    return this.pools.size;
  }

  /**
   * After a reload: closes the pools no current route uses. undici's close() lets the requests
   * already on such a pool finish and then ends its connections; new requests use the new pools.
   */
  retain(targets: Iterable<UpstreamTarget>): void {
    const keep = new Set<string>();
    for (const t of targets) keep.add(poolKey(t.origin, t.route.tls));
    for (const [key, pool] of this.pools) {
      if (keep.has(key)) continue;
      this.pools.delete(key);
      pool.close().catch(() => undefined);
    }
  }

  /**
   * Lets requests in flight finish for up to `graceMs`, then aborts the rest: a request to a slow app
   * must not hold a stop past the grace (one whose client left was cancelled already).
   */
  async close(graceMs = 10_000): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(pools.map((p) => p.close().catch(() => undefined))), grace]);
    clearTimeout(timer);
    await Promise.all(pools.map((p) => (p.destroyed ? undefined : p.destroy().catch(() => undefined))));
  }
}
