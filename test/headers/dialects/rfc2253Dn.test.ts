// rfc2253Dn against the real thing: `openssl x509 -nameopt RFC2253` is X509_NAME_print_ex with
// XN_FLAG_RFC2253, the call nginx ($ssl_client_s_dn) and Envoy (XFCC Subject) make.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { rfc2253Dn } from '../../../src/headers/dialects/rfc2253Dn.js';
import { STR, TempDir, bmp, buildCert, derToPem, nameDer, openssl, utcTime, utf8, type Atv } from '../fixtures.js';

const CN = '2.5.4.3';
const O = '2.5.4.10';
const C = '2.5.4.6';
const OU = '2.5.4.11';
const EMAIL = '1.2.840.113549.1.9.1';
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

interface Case {
  readonly title: string;
  readonly rdns: readonly (readonly Atv[])[];
  /** Literal expectation, checked as well as openssl's output. */
  readonly expected: string;
}

const CASES: Case[] = [
  { title: 'everyday ASCII, last RDN first', rdns: [[[C, STR.printable, latin1('DE')]], [[O, STR.utf8, utf8('SAP SE')]], [[CN, STR.utf8, utf8('client.example')]]], expected: 'CN=client.example,O=SAP SE,C=DE' },
  { title: 'the seven RFC 2253 specials get a backslash', rdns: [[[CN, STR.utf8, utf8('a,b+c"d\\e<f>g;h=i')]]], expected: 'CN=a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h=i' },
  { title: 'leading "#" and space, trailing space', rdns: [[[CN, STR.utf8, utf8('#x')]], [[O, STR.utf8, utf8(' padded ')]]], expected: 'O=\\ padded\\ ,CN=\\#x' },
  { title: 'UTF-8 bytes and control bytes as \\XX', rdns: [[[CN, STR.utf8, utf8('Jürgen\tx')]]], expected: 'CN=J\\C3\\BCrgen\\09x' },
  { title: 'BMPString converted to UTF-8 first', rdns: [[[CN, STR.bmp, bmp('Łódź')]]], expected: 'CN=\\C5\\81\\C3\\B3d\\C5\\BA' },
  { title: 'T61String bytes read as Latin-1', rdns: [[[O, STR.t61, latin1('Caf\u00e9')]]], expected: 'O=Caf\\C3\\A9' },
  { title: 'multi-valued RDN joined with "+", members reversed', rdns: [[[OU, STR.utf8, utf8('a')], [CN, STR.utf8, utf8('b')]], [[O, STR.utf8, utf8('c')]]], expected: 'O=c,CN=b+OU=a' },
  { title: 'unknown OID: dotted name, value dumped as DER hex', rdns: [[['1.3.6.1.4.1.55555.7', STR.utf8, utf8('x')]], [[CN, STR.utf8, utf8('y')]]], expected: 'CN=y,1.3.6.1.4.1.55555.7=#0C0178' },
  { title: 'emailAddress (IA5String)', rdns: [[[EMAIL, STR.ia5, latin1('dev@example.com')]], [[CN, STR.utf8, utf8('z')]]], expected: 'CN=z,emailAddress=dev@example.com' },
];

describe('headers/dialects/rfc2253Dn: OpenSSL XN_FLAG_RFC2253 text', function () {
  this.timeout(60_000);
  const tmp = new TempDir();
  before(() => tmp.create());
  after(() => tmp.remove());

  it('an empty Name gives ""', () => {
    expect(rfc2253Dn(nameDer([]))).to.equal('');
  });

  for (const [i, c] of CASES.entries()) {
    it(`${c.title}: as written here and as openssl prints it`, async () => {
      const name = nameDer(c.rdns);
      expect(rfc2253Dn(name)).to.equal(c.expected);
      const { der } = buildCert({ subject: name, issuer: name, notBefore: utcTime('250101000000Z'), notAfter: utcTime('350101000000Z') });
      const file = tmp.file(`c${i}.pem`);
      writeFileSync(file, derToPem(der));
      const { stdout } = await openssl(['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253']);
      expect(stdout.toString('latin1').replace(/^subject=/, '').replace(/\n$/, '')).to.equal(c.expected);
    });
  }
});
