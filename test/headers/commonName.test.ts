// One CN rule, two forms: the X-SSL-Client-Subject-CN header (raw bytes from DER, as HAProxy) and
// the CN the logs, the flow page and the user mapping show (from Node's X509Certificate text).
// Real certificates, parsed by Node's OpenSSL; each row pins both callers' exact output.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { clientCertHeaderValues } from '../../src/headers/clientCertValues.js';
import { firstCommonName, nodeDnAttributes } from '../../src/headers/commonName.js';
import { certSummary } from '../../src/edge/certInfoCache.js';
import { OID, buildCertificate, generateCertKey, type CertKey, type NameSpec, type StringType } from '../../src/pki/certBuilder.js';

const attr = (oid: string, value: string, stringType: StringType = 'utf8') => ({ oid, stringType, value });
const KNOWLEDGE_INFORMATION = '2.5.4.2'; // sorts before CN inside a multi-valued RDN

interface Row {
  readonly name: string;
  readonly subject: NameSpec;
  /** X-SSL-Client-Subject-CN, decoded from base64 ('' when the header is empty). */
  readonly header: Buffer;
  /** CertSummary.subjectCN (also what the user mapping compares). */
  readonly summary: string | null;
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

const ROWS: readonly Row[] = [
  { name: 'plain CN', subject: [[attr(OID.O, 'x')], [attr(OID.CN, 'client')]], header: utf8('client'), summary: 'client' },
  { name: 'no CN', subject: [[attr(OID.O, 'x')], [attr(OID.OU, 'y')]], header: utf8(''), summary: null },
  { name: 'empty CN', subject: [[attr(OID.O, 'x')], [attr(OID.CN, '')]], header: utf8(''), summary: '' },
  { name: 'several CNs: the first in DER order', subject: [[attr(OID.CN, 'first')], [attr(OID.O, 'x')], [attr(OID.CN, 'second')]], header: utf8('first'), summary: 'first' },
  {
    name: 'RFC 2253 specials: raw in the header, escaped as Node prints them in the summary',
    subject: [[attr(OID.CN, 'a,b"c+d \\e;<>')]],
    header: utf8('a,b"c+d \\e;<>'),
    summary: 'a\\,b\\"c\\+d \\\\e\\;\\<\\>',
  },
  { name: 'leading # and trailing space', subject: [[attr(OID.CN, '#lead ')]], header: utf8('#lead '), summary: '\\#lead\\ ' },
  { name: 'CR LF and an equals sign', subject: [[attr(OID.CN, 'a\r\nCN=b')]], header: utf8('a\r\nCN=b'), summary: 'a\\0D\\0ACN=b' },
  { name: 'BMPString: UCS-2 bytes in the header, text in the summary', subject: [[attr(OID.CN, 'Bjørn', 'bmp')]], header: Buffer.from('Bjørn', 'utf16le').swap16(), summary: 'Bjørn' },
  {
    name: 'multi-valued RDN with the CN first: the summary keeps the whole line',
    subject: [[attr(OID.CN, 'a'), attr(OID.O, 'b')]],
    header: utf8('a'),
    summary: 'a + O=b',
  },
  {
    name: 'multi-valued RDN with the CN second: the summary has no CN',
    subject: [[attr(KNOWLEDGE_INFORMATION, 'b'), attr(OID.CN, 'a')]],
    header: utf8('a'),
    summary: null,
  },
];

describe('the CN of a certificate', () => {
  let key: CertKey;
  before(async () => {
    key = await generateCertKey('ec-p256');
  });

  for (const row of ROWS) {
    it(row.name, () => {
      const der = buildCertificate({ subject: row.subject, subjectKey: key, notBefore: new Date(Date.UTC(2024, 0, 1)), notAfter: new Date(Date.UTC(2034, 0, 1)) }).der;
      const headers = clientCertHeaderValues({ leafDer: der, chainDer: [], verifyCode: 0, sessionId: null }, { legacyXfccHeaderMapping: false });
      const cnHeader = headers.find(([name]) => name === 'X-SSL-Client-Subject-CN')![1];
      expect(Buffer.from(cnHeader, 'base64').toString('hex'), 'header').to.equal(row.header.toString('hex'));
      expect(certSummary(new X509Certificate(der)).subjectCN, 'summary').to.equal(row.summary);
    });
  }

  it('firstCommonName takes the first attribute named CN, in the order given', () => {
    expect(firstCommonName([['O', 1], ['CN', 2], ['CN', 3]])).to.equal(2);
    expect(firstCommonName([['O', 1], ['cn', 2]])).to.equal(null);
    expect(firstCommonName([])).to.equal(null);
  });

  it("nodeDnAttributes reads Node's text, an empty name as none", () => {
    expect([...nodeDnAttributes('C=DE\nCN=x + O=y\nOU=a=b')]).to.deep.equal([['C', 'DE'], ['CN', 'x + O=y'], ['OU', 'a=b']]);
    expect([...nodeDnAttributes(undefined)]).to.deep.equal([]);
    expect([...nodeDnAttributes('')]).to.deep.equal([]);
  });
});
