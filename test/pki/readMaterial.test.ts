import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDevPki, type DevPki } from '../../src/pki/devPki.js';
import { decodeLooseBase64, MaterialError, orderChain, parseMaterial, readMaterial } from '../../src/pki/readMaterial.js';
import { parseSubject, toOpensslSubj } from '../../src/pki/subject.js';
import { edgeCode, parseVerifyOutput } from '../../src/pki/verify.js';
import { tempDir } from './helpers.js';

describe('pki/readMaterial', function () {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let pki: DevPki;
  before(async () => {
    ({ dir, cleanup } = await tempDir('read'));
    ({ pki } = await ensureDevPki(dir));
  });
  after(async () => cleanup());

  it('reads one-line PEM with literal \\n and JSON quotes', async () => {
    const pem = await readFile(pki.client.chain, 'utf8');
    const m = await parseMaterial('x', Buffer.from(JSON.stringify(pem)));
    expect(m.certs).to.have.length(2);
  });

  it('reads base64 of a PEM, and base64 DER with a ### tag', async () => {
    const pem = await readFile(pki.client.cert, 'utf8');
    expect((await parseMaterial('x', Buffer.from(Buffer.from(pem).toString('base64')))).certs).to.have.length(1);
    const der = (await parseMaterial('x', Buffer.from(pem))).certs[0]!.raw;
    expect(decodeLooseBase64(`${der.toString('base64')}###abc123`)?.equals(der)).to.equal(true);
  });

  it('orders a shuffled chain leaf first', async () => {
    const m = await readMaterial(pki.client.chain);
    const root = (await readMaterial(pki.rootCa.cert)).certs[0]!;
    const ordered = orderChain([root, m.certs[1]!, m.certs[0]!]);
    expect(ordered.map((c) => c.subject.split('\n').pop())).to.deep.equal(['CN=dev-client', 'CN=mtls-edge Dev Intermediate CA', 'CN=mtls-edge Dev Root CA']);
  });

  it('reports an encrypted key without password', async () => {
    const { createPrivateKey } = await import('node:crypto');
    const enc = createPrivateKey(await readFile(pki.client.key)).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' });
    await writeFile(join(dir, 'enc.key'), enc);
    const err = await readMaterial(join(dir, 'enc.key')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(MaterialError);
    expect((err as MaterialError).problem).to.match(/encrypted/);
    expect((await readMaterial(join(dir, 'enc.key'), { password: 'pw' })).key).to.not.equal(undefined);
  });

  it('subject round trip through the -subj form', () => {
    const s = parseSubject('/C=DE/O=A\\/B/OU=x+OU=y/CN=z');
    expect(s).to.deep.equal([[['C', 'DE']], [['O', 'A/B']], [['OU', 'x'], ['OU', 'y']], [['CN', 'z']]]);
    expect(toOpensslSubj(s)).to.equal('/C=DE/O=A\\/B/OU=x+OU=y/CN=z');
    expect(parseSubject('CN=z,O=Acme,C=DE')).to.deep.equal([[['C', 'DE']], [['O', 'Acme']], [['CN', 'z']]]);
  });

  it('maps openssl verify output to the edge code', () => {
    const errs = parseVerifyOutput('CN = x\nerror 20 at 0 depth lookup: unable to get local issuer certificate\nerror x.pem: verification failed\n');
    expect(errs).to.deep.equal([{ code: 20, depth: 0, text: 'unable to get local issuer certificate' }]);
    expect(edgeCode(errs)).to.equal(21);
    expect(edgeCode(parseVerifyOutput('error 10 at 0 depth lookup: certificate has expired'))).to.equal(10);
    expect(edgeCode([])).to.equal(0);
  });
});
