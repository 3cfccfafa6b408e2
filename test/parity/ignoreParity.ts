// Helpers for comparing verify verdicts under crt/ca ignore lists with real HAProxy: the binaries
// to run, the bind line's ignore options, the matching edge configuration, one request's verdict.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { httpsRequest, received } from '../support/edgeHarness.js';
import { findHaproxy, freePort, renderHaproxyConfig, startHaproxy, type RunningHaproxy } from './haproxy.js';

/** Debian's haproxy, and the 3.2 build found in ../shared/tools of the repo or of any parent. */
export function haproxyBinaries(): string[] {
  const out: string[] = [];
  const debian = findHaproxy();
  if (debian) out.push(debian);
  let dir = resolve(process.cwd());
  for (let i = 0; i < 8; i++) {
    const p = join(dir, '..', 'shared', 'tools', 'haproxy-3.2', 'haproxy');
    if (existsSync(p)) {
      out.push(resolve(p));
      break;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
}

export interface IgnoreSetting {
  /** crt-ignore-err (depth 0) — '' = none. */
  readonly crt: string;
  /** ca-ignore-err (depth > 0) — '' = none. */
  readonly ca: string;
  readonly crl: boolean;
}

/** The bind line's ignore options, as HAProxy takes them. */
function haproxyIgnoreOptions(s: IgnoreSetting): string {
  return `${s.crt ? ` crt-ignore-err ${s.crt}` : ''}${s.ca ? ` ca-ignore-err ${s.ca}` : ''}`;
}

const yamlList = (v: string): string => (v === 'all' ? '"all"' : `[${v}]`);

export function edgeYaml(serverChain: string, serverKey: string, trustFile: string, crlFiles: readonly string[], s: IgnoreSetting): string {
  return [
    'tls:',
    `  - cert: ${serverChain}`,
    `    key: ${serverKey}`,
    '    client_auth: optional',
    `    trust: [${trustFile}]`,
    ...(s.crl ? [`    crl: [${crlFiles.join(', ')}]`] : []),
    `    ignore_errors: ${yamlList(s.crt)}`,
    `    ca_ignore_errors: ${yamlList(s.ca)}`,
    '',
  ].join('\n');
}

export interface Verdict {
  readonly accepted: boolean;
  readonly verify: string | null;
}

export async function verdictOf(port: number, identity: { cert: Buffer; key: Buffer }): Promise<Verdict> {
  try {
    const reply = await httpsRequest(port, { identity });
    return { accepted: reply.status === 200, verify: received(reply, 'X-SSL-Client-Verify')[0] ?? null };
  } catch {
    return { accepted: false, verify: null };
  }
}

/** HAProxy with one ignore setting in front of the echo upstream (bind line edited for crt/ca-only lists). */
export async function startHaproxyFor(bin: string, dir: string, serverPem: string, trustFile: string, crlFile: string, upstreamPort: number, s: IgnoreSetting): Promise<{ haproxy: RunningHaproxy; port: number }> {
  const port = await freePort();
  const cfg = renderHaproxyConfig({
    httpsPort: port,
    httpPort: null,
    upstreamPort,
    mode: 'sanitize_set',
    tls: { serverPem, caFile: trustFile, verify: 'optional', crlFile: s.crl ? crlFile : undefined },
    withRootCaDn: false,
  }).replace(/(ca-file \S+ verify optional)/, `$1${haproxyIgnoreOptions(s)}`);
  return { haproxy: await startHaproxy(bin, cfg, port, { dir }), port };
}
