// One undici Pool per upstream origin: keep-alive connections reused across requests and clients.
import { Pool } from './undiciPool.js';
import type { ResolvedUpstreamTls } from '../config/resolve.js';

export interface UpstreamTimeouts {
  readonly connectMs: number;
  readonly serverMs: number;
  readonly keepAliveMs: number;
}

export class Upstreams {
  private readonly pools = new Map<string, Pool>();
  constructor(private readonly timeouts: UpstreamTimeouts) {}

  pool(origin: string, tls: ResolvedUpstreamTls | undefined): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        pipelining: 1,
        keepAliveTimeout: this.timeouts.keepAliveMs,
        headersTimeout: this.timeouts.serverMs,
        bodyTimeout: this.timeouts.serverMs,
        connect: {
          timeout: this.timeouts.connectMs,
          ...(tls
            ? {
                ca: tls.ca ? [...tls.ca] : undefined,
                cert: tls.cert,
                key: tls.key,
                rejectUnauthorized: tls.rejectUnauthorized,
                servername: tls.servername,
              }
            : {}),
        },
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
    this.pools.clear();
  }
}
