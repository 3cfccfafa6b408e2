// Issue 22: the exported configuration beyond one TLS configuration and one route. One edge
// configuration with two TLS configurations (SNI, client auth required on one) and host/path routes
// to two upstreams is exported with the real CLI (`mtls-edge export haproxy`), run in real HAProxy,
// and the same file runs the edge (`mtls-edge start --config`, other ports). Each request must reach
// the same upstream with the same headers, or fail the same way (parityCompare.ts known differences).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startCli, stopCli, type EdgeProcess } from '../support/cliProcess.js';
import { clientIdentity, httpRequest, httpsRequest, testPki, type ClientIdentity } from '../support/edgeHarness.js';
import { exportHaproxy, freePort, haproxyVersion, majorMinor, parityTargets, startHaproxy, type RunningHaproxy } from './haproxy.js';
import { compare, outcomeOf, type Facts } from './parityCompare.js';
import type { Outcome } from './parityCases.js';

/** An upstream that answers like the echo, plus one line naming itself, so a test sees which route was taken. */
async function namedUpstream(name: string): Promise<{ server: Server; origin: string }> {
  const server = http.createServer((req, res) => {
    const headers: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    headers.push(['x-test-upstream', name]);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, path: req.url, headers }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface Probe {
  readonly what: string;
  readonly listener: 'https' | 'http';
  readonly sni?: string;
  readonly host: string;
  readonly path: string;
  readonly cert: boolean;
  /** The upstream both must reach (null: neither reaches one). */
  readonly expect: 'A' | 'B' | null;
}

const PROBES: readonly Probe[] = [
  { what: 'api SNI, /v1/x, certificate → route 0', listener: 'https', sni: 'api.localhost', host: 'api.localhost', path: '/v1/x', cert: true, expect: 'A' },
  { what: 'api SNI, /v1?q, certificate → route 0', listener: 'https', sni: 'api.localhost', host: 'api.localhost', path: '/v1?q=1', cert: true, expect: 'A' },
  { what: 'api SNI, /v1x (not under /v1) → route 1', listener: 'https', sni: 'api.localhost', host: 'api.localhost', path: '/v1x', cert: true, expect: 'B' },
  { what: 'api SNI without a certificate: client auth required there', listener: 'https', sni: 'api.localhost', host: 'api.localhost', path: '/', cert: false, expect: null },
  { what: 'www SNI, no certificate → route 1', listener: 'https', sni: 'www.localhost', host: 'www.localhost', path: '/', cert: false, expect: 'B' },
  { what: 'www SNI with a certificate (not requested there)', listener: 'https', sni: 'www.localhost', host: 'www.localhost', path: '/v1', cert: true, expect: 'B' },
  { what: 'unknown SNI: the first TLS configuration serves', listener: 'https', sni: 'other.cert.localhost', host: 'api.localhost', path: '/v1', cert: true, expect: 'A' },
  { what: 'a Host no route matches → 503', listener: 'https', sni: 'www.localhost', host: 'example.org', path: '/', cert: false, expect: null },
  { what: 'plain HTTP, api Host, /v1 → route 0', listener: 'http', host: 'api.localhost', path: '/v1', cert: false, expect: 'A' },
  { what: 'plain HTTP, Host with port → route 1', listener: 'http', host: 'www.localhost:9999', path: '/', cert: false, expect: 'B' },
];

for (const target of parityTargets()) {
  describe(`exported multi-configuration edge in real HAProxy (issue 22): ${target.bin ? `HAProxy ${haproxyVersion(target.bin)}` : target.name}`, function () {
    this.timeout(120_000);
    let dir = '';
    let upstreams: { server: Server; origin: string }[] = [];
    let haproxy: RunningHaproxy | null = null;
    let edge: EdgeProcess | null = null;
    let facts: Facts = { version: '' };
    let identity: ClientIdentity | undefined;
    let ports = { h: { https: 0, http: 0 }, e: { https: 0, http: 0 } };

    before(async function () {
      if (!target.bin) {
        console.log(`    skipped (${target.name}): ${target.whyMissing}`);
        this.skip();
      }
      facts = { version: majorMinor(haproxyVersion(target.bin)) };
      const { pki } = await testPki();
      identity = await clientIdentity('valid');
      dir = mkdtempSync(join(tmpdir(), 'mtls-edge-export-routing-'));
      upstreams = [await namedUpstream('A'), await namedUpstream('B')];
      const config = (https: number, http: number): Record<string, unknown> => ({
        bind: '127.0.0.1',
        https_port: https,
        http_port: http,
        max_connections: 4000,
        admin: false,
        // HAProxy has no client-auth fronting check (docs/edge-behaviour.md §10.7): compared with it off.
        disable_client_auth_fronting: false,
        tls: [
          { cert: pki.server.chain, key: pki.server.key, trust: pki.rootCa.cert, client_auth: 'required', hosts: ['api.localhost'] },
          { cert: pki.server.chain, key: pki.server.key, hosts: ['www.localhost'] },
        ],
        routes: [
          { host: 'api.localhost', path: '/v1', upstream: upstreams[0]!.origin },
          { host: '*.localhost', upstream: upstreams[1]!.origin },
        ],
      });
      ports = { h: { https: await freePort(), http: await freePort() }, e: { https: await freePort(), http: await freePort() } };
      const cfg = exportHaproxy(dir, 'routing', facts.version, config(ports.h.https, ports.h.http));
      haproxy = await startHaproxy(target.bin, cfg, ports.h.https, { dir });
      const edgeConfig = join(dir, 'edge.yaml');
      writeFileSync(edgeConfig, JSON.stringify(config(ports.e.https, ports.e.http)));
      edge = await startCli(['--config', edgeConfig], dir);
    });

    after(async () => {
      await haproxy?.stop();
      if (edge) await stopCli(edge);
      for (const u of upstreams) u.server.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const send = (p: Probe, port: { https: number; http: number }): Promise<Outcome> => {
      const headers: [string, string][] = [['Host', p.host], ['User-Agent', 'mtls-edge-parity']];
      if (p.listener === 'http') return outcomeOf(() => httpRequest(port.http, { headers, path: p.path }));
      return outcomeOf(() => httpsRequest(port.https, { servername: p.sni, headers, path: p.path, identity: p.cert ? identity : undefined }));
    };

    for (const p of PROBES) {
      it(`${p.what}: the same upstream and headers as HAProxy`, async () => {
        const [h, e] = await Promise.all([send(p, ports.h), send(p, ports.e)]);
        const answered = (o: Outcome): string | null => (o.kind === 'http' && o.upstream ? (o.upstream.find(([k]) => k === 'x-test-upstream')?.[1] ?? null) : null);
        expect(answered(h), `HAProxy: ${JSON.stringify(h).slice(0, 300)}`).to.equal(p.expect);
        const v = compare({ headers: 'clean' }, h, e, facts);
        expect(v.kind, JSON.stringify(v)).to.not.equal('different');
      });
    }
  });
}
