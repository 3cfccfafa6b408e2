// requireClientCert on a plain loopback server (no edge): the headers are the ones the edge's writer
// produces for the dev client. Matcher details: RegExp g/y flags do not make a second request fail,
// every list given must match, and a verified result is attached before next().
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

  it('a global RegExp matches on every request, not every other one', async () => {
    expect(await statusWith({ subjects: [/dev-client/g] })).to.deep.equal([200, 200]);
  });

  it('every list given must match', async () => {
    expect(await statusWith({ subjects: ['dev-client'], issuers: ['/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Intermediate CA'] })).to.deep.equal([200, 200]);
    await server!.close();
    expect(await statusWith({ subjects: ['dev-client'], issuers: ['/CN=someone else'] })).to.deep.equal([403, 403]);
  });
});
