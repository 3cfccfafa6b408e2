// Parity with real HAProxy for client certificates with several defects at once, under crt/ca ignore
// lists: HAProxy refuses at the first error its list for that depth does not cover (crt-ignore-err
// at depth 0, ca-ignore-err above), and mtls-edge must reach the same verdict and the same
// X-SSL-Client-Verify. Runs against Debian's HAProxy and, when present, the 3.2 build in
// <repo>/../shared/tools/haproxy-3.2/haproxy (or a parent's). Without any haproxy it skips, saying why.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoServer, type EchoServer } from '../../src/echo/echoServer.js';
import { buildDefectPki, type DefectPki, type DefectScenario } from '../support/defectScenarios.js';
import { startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { haproxyVersion, writeServerPem, type RunningHaproxy } from './haproxy.js';
import { edgeYaml, haproxyBinaries, startHaproxyFor, verdictOf, type IgnoreSetting } from './ignoreParity.js';

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
