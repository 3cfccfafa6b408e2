// Issue 5.1 — parity with real HAProxy. For each forwarded_client_cert mode, with and without client
// certificates, with ignore lists, CRLs and TLS 1.2, the suite exports the edge's configuration with
// `mtls-edge export haproxy` (the haproxy.cfg and crt-list the Cloud Foundry template renders,
// docs/edge-behaviour.md §9; issue 22), runs real HAProxy and mtls-edge side by side in front of the
// same echo upstream, sends both the same requests (every certificate kind × clean and spoofed H10
// headers × HTTPS and plain HTTP) and compares what the upstream received, header by header, and what
// the client got. It runs once per HAProxy version (Debian's 2.6 and the 3.2 build beside the
// repository); a version whose binary is missing here is skipped with the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEchoServer, type EchoServer } from '../../src/echo/echoServer.js';
import { clientIdentity, httpRequest, httpsRequest, startTestEdge, testCrls, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { emptyNameIdentities, isEmptyNameKind } from './emptyNameCerts.js';
import { renegotiationOutcome } from './renegotiation.js';
import { exportHaproxy, freePort, haproxyVersion, majorMinor, parityTargets, startHaproxy, supportsFetch, type HaproxyTarget, type RunningHaproxy } from './haproxy.js';
import { caseId, casesFor, CERT_KINDS, NORMALISATIONS, requestHeaders, requestPath, SETTINGS, type CertKind, type Outcome, type ParityCase, type ParitySetting } from './parityCases.js';
import { compare, knownDifferencesFor, outcomeOf, pool, type Facts } from './parityCompare.js';

const EMPTY_NAME_PREMISE_SETTING = 'sanitize_set/client-auth';

function sendCase(c: ParityCase, port: { https: number; http: number }, identity: ClientIdentity | undefined): Promise<Outcome> {
  const headers = requestHeaders(c.headers);
  const path = requestPath(c.headers);
  if (c.listener === 'http') return outcomeOf(() => httpRequest(port.http, { headers, path }));
  return outcomeOf(() => httpsRequest(port.https, { identity, headers, path, maxVersion: c.setting.tls12 ? 'TLSv1.2' : undefined }));
}

interface Tally {
  total: number;
  identical: number;
  known: Map<string, string[]>;
  different: { id: string; detail: string }[];
}

for (const target of parityTargets()) paritySuite(target);

function paritySuite(target: HaproxyTarget): void {
  const haproxyBin = target.bin;
  const title = haproxyBin ? `HAProxy ${haproxyVersion(haproxyBin)}` : target.name;

  describe(`parity with real HAProxy (issue 5.1): ${title}`, function () {
    this.timeout(180_000);
    const tally: Tally = { total: 0, identical: 0, known: new Map(), different: [] };
    let facts: Facts = { version: '' };
    let hasRootDn = false;
    let echo: EchoServer | null = null;
    let workDir = '';
    let haproxy: RunningHaproxy | null = null;
    let edge: TestEdge | null = null;
    const identities = new Map<CertKind, ClientIdentity | undefined>();
  /** What HAProxy gave the empty-name certificates in EMPTY_NAME_PREMISE_SETTING (clean headers). */
  const emptyNameOutcomes = new Map<CertKind, Outcome>();

    before(async function () {
      if (!haproxyBin) {
        console.log(`    skipped (${target.name}): ${target.whyMissing}`);
        this.skip();
      }
      const version = haproxyVersion(haproxyBin);
      facts = { version: majorMinor(version) };
      hasRootDn = supportsFetch(haproxyBin, 'ssl_c_r_dn');
      console.log(`    HAProxy ${version} at ${haproxyBin}; ssl_c_r_dn ${hasRootDn ? 'available' : 'NOT available'}`);
      const { pki } = await testPki();
      workDir = mkdtempSync(join(tmpdir(), 'mtls-edge-parity-'));
      echo = await startEchoServer();
      identities.set('none', undefined);
      for (const [kind, id] of await emptyNameIdentities(workDir, pki.intermediateCa)) identities.set(kind, id);
      for (const kind of CERT_KINDS) if (!identities.has(kind) && kind !== 'none' && !isEmptyNameKind(kind)) identities.set(kind, await clientIdentity(kind));
    });

    afterEach(async () => {
      // Always, also when a case failed: stop this setting's HAProxy and edge.
      await haproxy?.stop();
      haproxy = null;
      await edge?.close();
      edge = null;
    });

    after(async function () {
      await echo?.close();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      if (!haproxyBin || tally.total === 0) return;
      const lines: string[] = ['', '    Parity with real HAProxy — normalisations applied to every case:'];
      for (const n of NORMALISATIONS) lines.push(`      - ${n}`);
      lines.push(`    Known differences for HAProxy ${facts.version} (cases that differ only in these ways):`);
      for (const kd of knownDifferencesFor(facts)) {
        const hits = tally.known.get(kd.id) ?? [];
        lines.push(`      [${kd.id}] ${hits.length} case(s): ${kd.what}`, `          reason: ${kd.reason}`);
        for (const id of hits.slice(0, 3)) lines.push(`          e.g. ${id}`);
      }
      if (tally.different.length) {
        lines.push(`    UNEXPECTED differences: ${tally.different.length}`);
        for (const d of tally.different.slice(0, 20)) lines.push(`      ${d.id}: ${d.detail.replace(/\n/g, '\n        ')}`);
      }
      const knownCount = [...tally.known.values()].reduce((n, l) => n + l.length, 0);
      lines.push(`    HAProxy ${haproxyVersion(haproxyBin)}: ${tally.identical}/${tally.total} identical (${knownCount} known differences, ${tally.different.length} unexpected)`);
      console.log(lines.join('\n'));
    });

    for (const setting of SETTINGS) {
      it(`${setting.id}: same upstream request and same client outcome as HAProxy`, async function () {
        await runSetting(setting);
      });
    }

    it('HAProxy accepts the CA-signed empty-name certificates and sets the ten headers with empty DN/CN values (the premise of those cases)', function () {
      const at = (cert: CertKind): Outcome | undefined => emptyNameOutcomes.get(cert);
      if (emptyNameOutcomes.size === 0) this.skip();
      const values = (o: Outcome | undefined, name: string): string[] | null =>
        o?.kind === 'http' && o.upstream ? o.upstream.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v) : null;
      for (const cert of ['empty-subject', 'empty-cn'] as const) {
        expect(at(cert), cert).to.include({ kind: 'http', status: 200 });
        expect(values(at(cert), 'X-SSL-Client-Verify'), cert).to.deep.equal(['0']);
        expect(values(at(cert), 'X-SSL-Client-Subject-CN'), cert).to.deep.equal(['']);
      }
      expect(values(at('empty-subject'), 'X-SSL-Client-Subject-DN')).to.deep.equal(['']);
      expect(values(at('empty-cn'), 'X-SSL-Client-Subject-DN')).to.deep.equal([Buffer.from('/CN=').toString('base64')]);
      expect(at('self-signed-empty-subject')).to.include({ kind: 'no-http-response', alert: 'unknown_ca' });
    });

    it('client-initiated TLS 1.2 renegotiation: the client sees what HAProxy gives it (refused, no_renegotiation)', async function () {
      const setting = SETTINGS.find((s) => s.id === 'sanitize_set/client-auth/TLS1.2')!;
      const ports = await startBoth(setting);
      const identity = identities.get('valid')!;
      const h = await renegotiationOutcome(ports.h.https, identity);
      const e = await renegotiationOutcome(ports.e.https, identity);
      const id = `${setting.id} https cert=valid renegotiation`;
      const same = JSON.stringify(h) === JSON.stringify(e);
      tally.total++;
      if (same) tally.identical++;
      else tally.different.push({ id, detail: `haproxy ${JSON.stringify(h)}, mtls-edge ${JSON.stringify(e)}` });
      expect(e, `${id}: the client sees something else than with HAProxy`).to.deep.equal(h);
    });

    /** This setting's HAProxy and mtls-edge, in front of the one echo upstream. */
    async function startBoth(setting: ParitySetting): Promise<{ h: { https: number; http: number }; e: { https: number; http: number } }> {
      const { pki } = await testPki();
      const crls = await testCrls();
      const [hsPort, hPort] = [await freePort(), await freePort()];
      // The edge's configuration for this setting, exported by the real CLI (`mtls-edge export
      // haproxy`), is what HAProxy runs: the parity suite checks the export as much as the edge.
      const cfg = exportHaproxy(workDir, setting.id, facts.version, {
        bind: '127.0.0.1',
        https_port: hsPort,
        http_port: hPort,
        forwarded_client_cert: setting.mode,
        // HAProxy needs about two descriptors per connection: 10,000 (the default) is above the limit of some CI machines.
        max_connections: 4000,
        tls: [{
          cert: pki.server.chain,
          key: pki.server.key,
          client_auth: setting.clientAuth === 'off' ? 'disabled' : setting.clientAuth,
          trust: setting.clientAuth === 'off' ? [] : [pki.rootCa.cert],
          ...(setting.ignore ? { ignore_errors: setting.ignore } : {}),
          ...(setting.crl ? { crl: [crls.all] } : {}),
        }],
        routes: [{ upstream: echo!.origin }],
      });
      haproxy = await startHaproxy(haproxyBin!, cfg, hsPort, { dir: workDir });
      edge = await startTestEdge({
        upstream: echo!.origin,
        forwardedClientCert: setting.mode,
        clientAuth: setting.clientAuth === 'off' ? 'disabled' : setting.clientAuth,
        ignoreErrors: setting.ignore,
        crl: setting.crl ? [crls.all] : undefined,
      });
      return { h: { https: hsPort, http: hPort }, e: { https: edge.httpsPort, http: edge.httpPort } };
    }

    async function runSetting(setting: ParitySetting): Promise<void> {
      const ports = await startBoth(setting);
      const cases = casesFor(setting);
      const verdicts = await pool(cases, 6, async (c) => {
        const identity = identities.get(c.cert);
        const [h, e] = await Promise.all([sendCase(c, ports.h, identity), sendCase(c, ports.e, identity)]);
        if (setting.id === EMPTY_NAME_PREMISE_SETTING && c.listener === 'https' && c.headers === 'clean' && isEmptyNameKind(c.cert)) emptyNameOutcomes.set(c.cert, h);
        return { c, v: compare(c, h, e, facts), h, e };
      });
      const failures: string[] = [];
      for (const { c, v } of verdicts) {
        tally.total++;
        if (v.kind === 'identical') tally.identical++;
        else if (v.kind === 'known') for (const id of v.ids) tally.known.set(id, [...(tally.known.get(id) ?? []), caseId(c)]);
        else {
          tally.different.push({ id: caseId(c), detail: v.detail });
          failures.push(`${caseId(c)}: ${v.detail}`);
        }
      }
      const identical = verdicts.filter((x) => x.v.kind === 'identical').length;
      console.log(`      ${identical}/${cases.length} identical, ${verdicts.filter((x) => x.v.kind === 'known').length} known differences, ${failures.length} unexpected`);
      expect(failures, `${failures.length} case(s) differ from HAProxy in a way not in KNOWN_DIFFERENCES:\n${failures.slice(0, 10).join('\n\n')}`).to.deep.equal([]);
    }
  });
}
