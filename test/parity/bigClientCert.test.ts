// Large client certificates (CA-signed, accepted) against real HAProxy 2.6 and 3.2 (when found), in
// the four forwarded_client_cert modes. Measured (tune.bufsize 16,384; docs/edge-behaviour.md §10.6):
// a leaf up to 12,285 bytes of DER gets its base64 (up to 16,380 bytes) in X-Forwarded-Client-Cert
// when the head still fits the buffer, else 500; from 12,286 bytes HAProxy's base64 converter fails
// and the header is set empty, the others as usual, 200. The modes that set nothing forward all of
// them. HAProxy 2.6 has no X-SSL-Client-Root-CA-DN line, so its head is that header (95 bytes of HTX)
// smaller: a leaf of 11,772 bytes still fits there, while 3.2 and the edge (which sets the header) 500.
import { expect } from 'chai';
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';
import { rawExchange, tlsConnect, upstreamValues, type RawResponse } from '../support/rawHttp.js';
import { freePort, haproxyVersion, majorMinor, parityTargets, renderHaproxyConfig, startHaproxy, supportsFetch, writeServerPem, H10_NAMES, type HaproxyTarget, type Mode, type RunningHaproxy } from './haproxy.js';
import { leavesOfDerSize } from './bigClientCerts.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** DER sizes around both limits: the head budget (~11.8 KB) and the base64 converter (12,285 / 12,286). */
const SIZES = [11000, 11772, 11900, 12285, 12286, 13000, 30000] as const;
const MODES: readonly Mode[] = ['sanitize_set', 'forward_only_if_route_service', 'forward_only', 'always_forward_only'];
/** Where 2.6 answers 200 and the edge, like 3.2, 500: 2.6 does not set X-SSL-Client-Root-CA-DN. */
const ONLY_26_FITS: readonly number[] = [11772];
const REQUEST = 'GET /big HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

/** Status and, when the app answered, the ten headers it got: XFCC as is, the others by length (the session ID differs per connection). */
function seen(r: RawResponse, withRootDn: boolean): string {
  if (r.status !== 200) return `${r.status}`;
  const h = H10_NAMES.filter((n) => withRootDn || n !== 'X-SSL-Client-Root-CA-DN').map((n) => {
    const v = upstreamValues(r, n);
    if (v.length === 0) return `${n}: absent`;
    return n === 'X-Forwarded-Client-Cert' ? `${n}: ${v.length} line(s), ${v[0]!.length} bytes ${v[0]!.slice(0, 16)}…${v[0]!.slice(-16)}` : `${n}: ${v.length} line(s), ${v[0]!.length} bytes`;
  });
  return ['200', ...h].join('\n');
}

async function send(port: number, chain: Buffer, key: Buffer): Promise<RawResponse> {
  const socket = await tlsConnect(port, { identity: { cert: chain, key } });
  try {
    return await rawExchange(socket, REQUEST);
  } finally {
    socket.destroy();
  }
}

for (const target of parityTargets()) bigCertSuite(target);

function bigCertSuite(target: HaproxyTarget): void {
  const bin = target.bin;
  describe(`parity: large client certificates vs real HAProxy: ${bin ? `HAProxy ${haproxyVersion(bin)}` : target.name}`, function () {
    this.timeout(60_000);
    let upstream: LoopbackServer | null = null;
    let workDir = '';
    let serverPem = '';
    let key = Buffer.alloc(0);
    let chains = new Map<number, Buffer>();
    let haproxy: RunningHaproxy | null = null;
    let edge: TestEdge | null = null;

    before(async function () {
      if (!bin) {
        console.log(`    skipped (${target.name}): ${target.whyMissing}`);
        this.skip();
      }
      const { pki } = await testPki();
      workDir = mkdtempSync(join(tmpdir(), 'mtls-edge-bigcert-parity-'));
      serverPem = writeServerPem(workDir, pki.server.chain, pki.server.key);
      const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      key = Buffer.from(keyPem);
      chains = await leavesOfDerSize(keyPem, pki.intermediateCa, SIZES);
      // Node's default 16 KB head limit would refuse the largest heads HAProxy forwards.
      const server = http.createServer({ maxHeaderSize: 65536 }, (req, res) => {
        const headers: [string, string][] = [];
        for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, path: req.url, headers, bodyBytes: 0 }));
      });
      upstream = await listenOnLoopback(server);
    });

    afterEach(async () => {
      await haproxy?.stop();
      haproxy = null;
      await edge?.close();
      edge = null;
    });

    after(async () => {
      await upstream?.close();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    for (const mode of MODES) {
      it(`${mode}: DER ${SIZES.join(', ')} bytes — same status and headers as HAProxy`, async function () {
        const { pki } = await testPki();
        const withRootDn = supportsFetch(bin!, 'ssl_c_r_dn');
        const port = await freePort();
        const cfg = renderHaproxyConfig({ httpsPort: port, httpPort: null, upstreamPort: upstream!.port, mode, tls: { serverPem, caFile: pki.rootCa.cert }, withRootCaDn: withRootDn });
        haproxy = await startHaproxy(bin!, cfg, port, { dir: workDir });
        edge = await startTestEdge({ upstream: `http://127.0.0.1:${upstream!.port}`, forwardedClientCert: mode, clientAuth: 'optional' });
        const sets = mode === 'sanitize_set' || mode === 'forward_only_if_route_service';
        const rows: string[] = [];
        const failures: string[] = [];
        for (const size of SIZES) {
          const chain = chains.get(size)!;
          const [h, e] = [await send(port, chain, key), await send(edge.httpsPort, chain, key)];
          const [hs, es] = [seen(h, withRootDn), seen(e, withRootDn)];
          rows.push(`      ${mode} DER ${size}: HAProxy ${hs.split('\n')[0]} | edge ${es.split('\n')[0]}${hs === es ? '' : ' [differs]'}`);
          if (sets && !withRootDn && ONLY_26_FITS.includes(size)) {
            // Checked as measured, so the band stays as small as the missing header.
            expect([h.status, e.status], `DER ${size}: 2.6 fits, the edge (as 3.2) does not`).to.deep.equal([200, 500]);
            expect(majorMinor(haproxyVersion(bin!))).to.equal('2.6');
            continue;
          }
          if (hs !== es) failures.push(`DER ${size}:\n  HAProxy: ${hs.replace(/\n/g, '\n    ')}\n  edge:    ${es.replace(/\n/g, '\n    ')}`);
          if (sets && size >= 12286) expect(upstreamValues(h, 'X-Forwarded-Client-Cert'), `DER ${size}: HAProxy's base64 fails`).to.deep.equal(['']);
        }
        console.log(rows.join('\n'));
        expect(failures, failures.join('\n')).to.deep.equal([]);
      });
    }
  });
}
