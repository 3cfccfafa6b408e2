// The certificate builder, parsed back by Node's X509Certificate and by `openssl x509 -text` / asn1parse:
// each row builds one shape and checks what a real parser reads from it.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildCertificate, certKeyFromPem, CertBuilderError, CERT_KEY_TYPES, derToPem, encodeName, generateCertKey, OID, privateKeyPem, signerOf,
  simpleName, subjectNameDer, type CertKey, type CertKeyType, type CertificateSpec,
} from '../../src/pki/certBuilder.js';
import { run, tempDir } from './helpers.js';

const DAY = 86_400_000;
const now = Date.now();

describe('pki/certBuilder', function () {
  this.timeout(60_000);
  const keys = {} as Record<CertKeyType, CertKey>;
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};

  before(async () => {
    ({ dir, cleanup } = await tempDir('certbuilder'));
    await Promise.all(CERT_KEY_TYPES.map(async (t) => { keys[t] = await generateCertKey(t); }));
  });
  after(async () => cleanup());

  const base = (over: Partial<CertificateSpec> = {}): CertificateSpec => ({
    subject: simpleName([['CN', 'row']]), subjectKey: keys['ec-p256'], notBefore: new Date(now - DAY), notAfter: new Date(now + DAY), ...over,
  });

  async function opensslText(pem: string, extra: string[] = []): Promise<string> {
    const f = join(dir, `c-${Math.random().toString(36).slice(2)}.pem`);
    await writeFile(f, pem);
    const r = await run('openssl', ['x509', '-in', f, '-noout', '-text', '-nameopt', 'oneline,-esc_msb', ...extra]);
    expect(r.code, r.stderr).to.equal(0);
    return r.stdout;
  }

  async function asn1(pem: string): Promise<string> {
    const f = join(dir, `a-${Math.random().toString(36).slice(2)}.pem`);
    await writeFile(f, pem);
    const r = await run('openssl', ['asn1parse', '-in', f]);
    expect(r.code, r.stderr).to.equal(0);
    return r.stdout;
  }

  for (const type of CERT_KEY_TYPES) {
    it(`self-signed with ${type}: the signature verifies with its own key, and the key matches`, () => {
      const c = buildCertificate(base({ subjectKey: keys[type] }));
      const x = new X509Certificate(c.der);
      expect(x.verify(keys[type].publicKey)).to.equal(true);
      expect(x.checkPrivateKey(keys[type].privateKey)).to.equal(true);
      expect(x.subject).to.equal('CN=row');
      expect(x.issuer).to.equal('CN=row');
    });
  }

  it('signed by another key: verifies with the signer key only, issuer is the signer name byte for byte', () => {
    const ca = buildCertificate(base({ subject: simpleName([['O', 'CA org'], ['CN', 'CA']]), subjectKey: keys.rsa2048, extensions: [{ kind: 'basicConstraints', ca: true, critical: true }] }));
    const leaf = buildCertificate(base({ signer: signerOf(ca.pem, keys.rsa2048) }));
    const x = new X509Certificate(leaf.der);
    expect(x.verify(keys.rsa2048.publicKey)).to.equal(true);
    expect(x.verify(keys['ec-p256'].publicKey)).to.equal(false);
    expect(x.checkIssued(new X509Certificate(ca.der))).to.equal(true);
    expect(x.issuer).to.equal('O=CA org\nCN=CA');
  });

  it('corruptSignature: same structure, signature no longer verifies', async () => {
    const c = buildCertificate(base({ corruptSignature: true }));
    expect(new X509Certificate(c.der).verify(keys['ec-p256'].publicKey)).to.equal(false);
    expect(await opensslText(c.pem)).to.include('Signature Algorithm: ecdsa-with-SHA256');
  });

  it('empty subject (0 RDNs): Node reads subject undefined, openssl an empty Subject', async () => {
    const c = buildCertificate(base({ subject: [] }));
    expect(encodeName([]).toString('hex')).to.equal('3000');
    expect(subjectNameDer(c.der).toString('hex')).to.equal('3000');
    const x = new X509Certificate(c.der);
    expect(x.subject ?? '').to.equal('');
    expect(await opensslText(c.pem)).to.match(/Subject: *\n/);
  });

  it('every string type is written with its own tag and bytes', async () => {
    const c = buildCertificate(base({
      subject: [
        [{ oid: OID.C, stringType: 'printable', value: 'DE' }],
        [{ oid: OID.O, stringType: 'teletex', value: 'T61 org' }],
        [{ oid: OID.OU, stringType: 'bmp', value: 'Bjørn' }],
        [{ oid: OID.OU, stringType: 'universal', value: 'Zoë' }],
        [{ oid: OID.L, stringType: 'ia5', value: 'ia5' }],
        [{ oid: OID.serialNumber, stringType: 'numeric', value: '0123' }],
        [{ oid: OID.CN, stringType: 'utf8', value: 'Jürgen' }],
      ],
    }));
    const a = await asn1(c.pem);
    for (const tag of ['PRINTABLESTRING', 'T61STRING', 'BMPSTRING', 'UNIVERSALSTRING', 'IA5STRING', 'NUMERICSTRING', 'UTF8STRING']) {
      expect(a, tag).to.include(tag);
    }
    const text = await opensslText(c.pem);
    expect(text).to.include('OU = Bjørn');
    expect(text).to.include('OU = Zoë');
    expect(text).to.include('CN = Jürgen');
  });

  it('raw bytes in a UTF8String are kept as given (invalid UTF-8 included)', () => {
    const bytes = Uint8Array.from([0xff, 0xfe, 0x00, 0x41, 0xc3]);
    const name = encodeName([[{ oid: OID.CN, stringType: 'utf8', value: bytes }]]);
    expect(name.subarray(-7).toString('hex')).to.equal('0c05fffe0041c3');
  });

  // OpenSSL 3 canonicalises every Name while decoding a certificate: a value it cannot convert to
  // UTF-8 makes the whole certificate unreadable (so a TLS peer refuses it with decode_error).
  for (const [label, attr] of [
    ['invalid UTF-8 in a UTF8String', { oid: OID.CN, stringType: 'utf8', value: Uint8Array.from([0xff, 0xfe]) }],
    ['a VisibleString', { oid: OID.CN, stringType: 'visible', value: 'visible' }],
    ['a BMPString of odd length', { oid: OID.CN, stringType: 'bmp', value: Uint8Array.from([0, 0x41, 0]) }],
  ] as const) {
    it(`${label}: built as asked; OpenSSL (and so Node) refuses to decode it`, async () => {
      const c = buildCertificate(base({ subject: [[attr]] }));
      expect(() => new X509Certificate(c.der)).to.throw();
      const f = join(dir, `r-${Math.random().toString(36).slice(2)}.pem`);
      await writeFile(f, c.pem);
      expect((await run('openssl', ['x509', '-in', f, '-noout'])).code).to.not.equal(0);
      expect(await asn1(c.pem)).to.match(/UTF8STRING|VISIBLESTRING|BMPSTRING/);
    });
  }

  it('multi-valued RDN, 150 RDNs, an empty value and an unknown attribute OID', async () => {
    const many = Array.from({ length: 150 }, (_, i) => [{ oid: OID.OU, stringType: 'utf8' as const, value: `u${i}` }]);
    const c = buildCertificate(base({
      subject: [[{ oid: OID.OU, stringType: 'utf8', value: 'b' }, { oid: OID.OU, stringType: 'utf8', value: 'a' }], [{ oid: '1.2.3.4.5', stringType: 'utf8', value: '' }], ...many],
    }));
    const text = await opensslText(c.pem);
    expect(text).to.match(/OU = a \+ OU = b/); // SET OF sorted as DER wants
    expect(text).to.include('1.2.3.4.5 = ,');
    expect(text).to.include('OU = u149');
  });

  it('validity: 1950 and 2049 as UTCTime, 2050/9999 as GeneralizedTime, explicit and verbatim encodings', async () => {
    const a = await asn1(buildCertificate(base({ notBefore: new Date(Date.UTC(1950, 0, 1)), notAfter: new Date(Date.UTC(9999, 11, 31, 23, 59, 59)) })).pem);
    expect(a).to.include('UTCTIME           :500101000000Z');
    expect(a).to.include('GENERALIZEDTIME   :99991231235959Z');
    const b = await asn1(buildCertificate(base({ notBefore: new Date(Date.UTC(2049, 11, 31)), notAfter: new Date(Date.UTC(2050, 0, 1)) })).pem);
    expect(b).to.include('UTCTIME           :491231000000Z');
    expect(b).to.include('GENERALIZEDTIME   :20500101000000Z');
    const c = await asn1(buildCertificate(base({
      notBefore: { encoding: 'generalized', date: new Date(Date.UTC(2020, 0, 1)) }, notAfter: { encoding: 'utc', text: '600101000000.5Z' },
    })).pem);
    expect(c).to.include('GENERALIZEDTIME   :20200101000000Z');
    expect(c).to.include('UTCTIME           :600101000000.5Z');
  });

  it('serial: bigint minimal two\'s complement, raw bytes verbatim', async () => {
    const s = async (serial: bigint | Uint8Array): Promise<string> => /INTEGER\s+:(\S*)/.exec((await asn1(buildCertificate(base({ serial })).pem)).split('\n').slice(4).join('\n'))![1]!;
    expect(await s(1n)).to.equal('01');
    expect(await s(128n)).to.equal('80');
    expect(await s(-1n)).to.equal('-01');
    expect(await s(Uint8Array.from(Buffer.alloc(30, 0x7a)))).to.equal('7A'.repeat(30));
    const derOf = (serial: bigint): string => buildCertificate(base({ serial })).der.subarray(12, 16).toString('hex');
    expect(derOf(128n)).to.match(/^02020080/);
    expect(derOf(-129n)).to.match(/^0202ff7f/);
  });

  it('extensions: basicConstraints, keyUsage, EKU, SAN, SKI/AKI, unknown OID, criticality', async () => {
    const ca = buildCertificate(base({ subject: simpleName([['CN', 'ca']]), subjectKey: keys.ed25519, extensions: [{ kind: 'subjectKeyIdentifier' }] }));
    const c = buildCertificate(base({
      signer: signerOf(ca.der, keys.ed25519),
      extensions: [
        { kind: 'basicConstraints', ca: true, pathLen: 3, critical: true },
        { kind: 'keyUsage', usages: ['digitalSignature', 'keyCertSign'], critical: true },
        { kind: 'extKeyUsage', purposes: [OID.clientAuth, '1.2.3.4'] },
        { kind: 'subjectAltName', names: [{ dns: 'a.example' }, { ip: '127.0.0.1' }, { email: 'x@example.com' }, { uri: 'https://u.example/' }] },
        { kind: 'subjectKeyIdentifier' },
        { kind: 'authorityKeyIdentifier' },
        { kind: 'raw', oid: '1.3.6.1.4.1.99999.1', value: Buffer.from('0500', 'hex'), critical: true },
      ],
    }));
    const text = await opensslText(c.pem);
    expect(text).to.match(/Basic Constraints: critical\s+CA:TRUE, pathlen:3/);
    expect(text).to.match(/Key Usage: critical\s+Digital Signature, Certificate Sign/);
    expect(text).to.match(/Extended Key Usage:\s+TLS Web Client Authentication, 1\.2\.3\.4/);
    expect(text).to.match(/DNS:a\.example, IP Address:127\.0\.0\.1, email:x@example\.com, URI:https:\/\/u\.example\//);
    expect(text).to.match(/1\.3\.6\.1\.4\.1\.99999\.1: critical/);
    const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(await opensslText(ca.pem))![1];
    expect(text).to.match(new RegExp(`Authority Key Identifier:\\s+(keyid:)?${caSki}`));
    expect(new X509Certificate(c.der).checkIssued(new X509Certificate(ca.der))).to.equal(true);
  });

  it('no extensions: a plain v3 certificate; version 1 has no version field', async () => {
    expect(await opensslText(buildCertificate(base()).pem)).to.include('Version: 3 (0x2)');
    expect(await opensslText(buildCertificate(base({ version: 1 })).pem)).to.include('Version: 1 (0x0)');
  });

  it('derToPem: CERTIFICATE by default, another label (a CRL) around the same base64 lines', () => {
    const c = buildCertificate(base());
    expect(derToPem(c.der)).to.equal(c.pem);
    const crl = derToPem(c.der, 'X509 CRL');
    expect(crl.startsWith('-----BEGIN X509 CRL-----\n')).to.equal(true);
    expect(crl.endsWith('-----END X509 CRL-----\n')).to.equal(true);
    expect(crl.split('\n').slice(1, -2)).to.deep.equal(c.pem.split('\n').slice(1, -2));
  });

  it('a key read back from PEM keeps its type and signs the same way', () => {
    for (const type of CERT_KEY_TYPES) {
      const again = certKeyFromPem(privateKeyPem(keys[type]));
      expect(again.type).to.equal(type);
      expect(new X509Certificate(buildCertificate(base({ subjectKey: again })).der).verify(keys[type].publicKey)).to.equal(true);
    }
  });

  it('descriptions without an encoding are refused with the field named', () => {
    expect(() => buildCertificate(base({ subject: [[{ oid: 'CN', stringType: 'utf8', value: 'x' }]] }))).to.throw(CertBuilderError, /"CN" is not a dotted OID/);
    expect(() => buildCertificate(base({ notAfter: new Date(NaN) }))).to.throw(CertBuilderError, /notAfter: invalid date/);
    expect(() => buildCertificate(base({ notAfter: new Date(Date.UTC(10000, 0, 1)) }))).to.throw(CertBuilderError, /notAfter: year 10000/);
  });
});
