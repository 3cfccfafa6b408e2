// ApacheBench (`ab`, Debian apache2-utils) as the load generator: it can present a client
// certificate (-E chain+key PEM), makes full handshakes on every new connection (no session
// resumption) and reports requests/s and latency percentiles.
import { spawnSync } from 'node:child_process';
import { run } from './procs.js';

export const HAVE_AB = spawnSync('ab', ['-V']).status === 0;

export interface AbResult {
  readonly rps: number;
  readonly complete: number;
  readonly failed: number;
  readonly non2xx: number;
  readonly p50: number;
  readonly p99: number;
  readonly command: string;
}

export interface AbOptions {
  readonly url: string;
  readonly concurrency: number;
  /** Seconds; or `requests` for a fixed count. */
  readonly seconds?: number;
  readonly requests?: number;
  readonly keepAlive: boolean;
  readonly clientPem?: string;
  readonly cpu?: number;
}

export function abArgs(o: AbOptions): string[] {
  const args = ['-q', '-l', '-r', '-s', '30', '-c', String(o.concurrency)];
  if (o.seconds !== undefined) args.push('-t', String(o.seconds), '-n', '100000000');
  else args.push('-n', String(o.requests ?? 10_000));
  if (o.keepAlive) args.push('-k');
  if (o.clientPem) args.push('-E', o.clientPem);
  args.push(o.url);
  return args;
}

export async function ab(o: AbOptions): Promise<AbResult> {
  const args = abArgs(o);
  const timeoutMs = ((o.seconds ?? 600) + 60) * 1000;
  const r = await run('ab', args, { cpu: o.cpu, timeoutMs });
  const num = (re: RegExp): number => Number(re.exec(r.stdout)?.[1] ?? NaN);
  const rps = num(/Requests per second:\s+([\d.]+)/);
  if (!Number.isFinite(rps)) throw new Error(`ab failed (exit ${r.code}): ab ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return {
    rps,
    complete: num(/Complete requests:\s+(\d+)/),
    failed: num(/Failed requests:\s+(\d+)/),
    non2xx: Number(/Non-2xx responses:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0),
    p50: num(/^\s+50%\s+(\d+)/m),
    p99: num(/^\s+99%\s+(\d+)/m),
    command: `${o.cpu !== undefined ? `taskset -c ${o.cpu} ` : ''}ab ${args.join(' ')}`,
  };
}
