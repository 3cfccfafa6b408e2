// requireClientCert on a plain loopback server (no edge): the headers are the ones the edge's writer
// produces for the dev client. Every list given must match, each on every request, and a verified
// result is attached before next(). Hostile names: allowList.test.ts.
import { expect } from 'chai';
import http from 'node:http';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { requireClientCert, type AllowList, type RequestWithClientCert } from '../../src/app/index.js';
import { clientCertHeaderValues } from '../../src/headers/clientCertValues.js';
import { httpRequest, testPki } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';

describe('app reader: requireClientCert allow-lists', function () {
  this.timeout(60_000);
  let headers: [string, string][];
  let server: LoopbackServer | null = null;
  before(async () => {
    const { pki } = await testPki();
    const leaf = new X509Certificate(readFileSync(pki.client.cert)).raw;
    headers = [['Host', 'app'], ...clientCertHeaderValues({ leafDer: leaf, chainDer: [leaf], verifyCode: 0, sessionId: null }, { legacyXfccHeaderMapping: false }).map(([k, v]): [string, string] => [k, v])];
  });
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  async function statusWith(allow: AllowList): Promise<number[]> {
    const guard = requireClientCert({ allow });
    server = await listenOnLoopback(
      http.createServer((req, res) => guard(req, res, () => res.end((req as RequestWithClientCert).clientCert.status))),
    );
    const out: number[] = [];
    for (let i = 0; i < 2; i++) out.push((await httpRequest(server.port, { headers })).status);
    return out;
  }

  it('each kind of list lets the dev client in, on every request', async () => {
    for (const allow of [{ commonNames: ['dev-client'] }, { subjects: ['CN=dev-client,OU=clients,O=mtls-edge dev,C=DE'] }, { issuers: ['CN=mtls-edge Dev Intermediate CA,O=mtls-edge dev,C=DE'] }]) {
      expect(await statusWith(allow), JSON.stringify(allow)).to.deep.equal([200, 200]);
      await server!.close();
    }
  });

  it('every list given must match', async () => {
    expect(await statusWith({ commonNames: ['dev-client'], issuers: ['CN=mtls-edge Dev Intermediate CA,O=mtls-edge dev,C=DE'] })).to.deep.equal([200, 200]);
    await server!.close();
    expect(await statusWith({ commonNames: ['dev-client'], issuers: ['CN=someone else'] })).to.deep.equal([403, 403]);
  });
});
