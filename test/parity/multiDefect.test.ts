// Parity with real HAProxy for client certificates with several defects at once, under crt/ca ignore
// lists: HAProxy refuses at the first error its list for that depth does not cover (crt-ignore-err
// at depth 0, ca-ignore-err above), and mtls-edge must reach the same verdict and the same
// X-SSL-Client-Verify. Runs against Debian's HAProxy and, when present, the 3.2 build in
// <repo>/../shared/tools/haproxy-3.2/haproxy (or a parent's). Without any haproxy it skips, saying why.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { startEchoServer, type EchoServer } from '../../src/echo/echoServer.js';
import { buildDefectPki, type DefectPki, type DefectScenario } from '../support/defectScenarios.js';
import { httpsRequest, received, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { findHaproxy, freePort, haproxyVersion, renderHaproxyConfig, startHaproxy, writeServerPem, type RunningHaproxy } from './haproxy.js';

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
export function haproxyIgnoreOptions(s: IgnoreSetting): string {
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

const SETTINGS: readonly IgnoreSetting[] = [
  ...['10', '10,23', '7', 'all', '7,10', '79,26', '10,26', '10,20,21'].flatMap((l) => [false, true].map((crl) => ({ crt: l, ca: l, crl }))),
  // CA-only and crt-only lists.
  { crt: '', ca: '10', crl: false },
  { crt: '', ca: '79,26', crl: false },
  { crt: '10', ca: '', crl: false },
  { crt: '', ca: 'all', crl: true },
  { crt: 'all', ca: '', crl: true },
  { crt: '10,23', ca: '3', crl: true },
];

const bins = haproxyBinaries();

for (const bin of bins.length > 0 ? bins : [null]) {
  describe(`parity: multi-defect certificates under crt/ca ignore lists (${bin ? `HAProxy ${haproxyVersion(bin)}` : 'no haproxy'})`, function () {
    this.timeout(120_000);
    let pki: DefectPki;
    let workDir: string;
    let echo: EchoServer | undefined;
    let serverPem: string;
    before(async function () {
      if (!bin) {
        console.log('    multi-defect parity skipped: no `haproxy` on PATH, in /usr/sbin or in ../shared/tools/haproxy-3.2 (install it, e.g. `apt-get install -y haproxy`).');
        this.skip();
      }
      pki = buildDefectPki();
      workDir = mkdtempSync(join(tmpdir(), 'mtls-edge-multidefect-'));
      const { pki: dev } = await testPki();
      serverPem = writeServerPem(workDir, dev.server.chain, dev.server.key);
      echo = await startEchoServer();
    });
    after(async () => {
      await echo?.close();
      pki?.remove();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    for (const s of SETTINGS) {
      it(`crt [${s.crt}] ca [${s.ca}]${s.crl ? ' with CRLs' : ''}: every scenario gets HAProxy's verdict and X-SSL-Client-Verify`, async () => {
        const { pki: dev } = await testPki();
        let h: { haproxy: RunningHaproxy; port: number } | null = null;
        let edge: TestEdge | null = null;
        try {
          h = await startHaproxyFor(bin!, workDir, serverPem, pki.trustFile, pki.crlFile, echo!.port, s);
          edge = await startTestEdge({}, edgeYaml(dev.server.chain, dev.server.key, pki.trustFile, pki.crlFiles, s));
          const diffs: string[] = [];
          for (const sc of pki.scenarios as readonly DefectScenario[]) {
            const identity = { cert: readFileSync(sc.certFile), key: readFileSync(sc.keyFile) };
            const [hv, ev] = [await verdictOf(h.port, identity), await verdictOf(edge.httpsPort, identity)];
            if (hv.accepted !== ev.accepted || hv.verify !== ev.verify) {
              diffs.push(`${sc.name}: haproxy ${hv.accepted ? `accepted (${hv.verify})` : 'refused'}, mtls-edge ${ev.accepted ? `accepted (${ev.verify})` : 'refused'}`);
            }
          }
          expect(diffs, diffs.join('\n')).to.deep.equal([]);
        } finally {
          await edge?.close();
          await h?.haproxy.stop();
        }
      });
    }
  });
}
