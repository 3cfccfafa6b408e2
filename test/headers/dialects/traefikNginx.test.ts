// traefik and nginx value formats on hand-made names and certificates. The traefik DN vectors are the
// expectations of Traefik's own test (pkg/middlewares/passtlsclientcert/pass_tls_client_cert_test.go,
// TestPassTLSClientCert_certInfo: completeCertAllInfo's Subject and Issuer) for names in the same
// attribute order as its test certificates.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { nginxHeaderValues } from '../../../src/headers/dialects/nginx.js';
import { queryEscape, traefikCertInfo, traefikDn, traefikHeaderValues } from '../../../src/headers/dialects/traefik.js';
import { STR, buildCert, nameDer, utcTime, utf8, type Atv } from '../fixtures.js';

const A = { DC: '0.9.2342.19200300.100.1.25', C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3', EMAIL: '1.2.840.113549.1.9.1' };
const p = (oid: string, v: string): Atv[] => [[oid, oid === A.DC || oid === A.EMAIL ? STR.ia5 : STR.utf8, utf8(v)]];

// Traefik's test certificate names, attribute for attribute (one attribute per RDN, in this order).
const SUBJECT = nameDer([
  p(A.DC, 'org'), p(A.DC, 'cheese'), p(A.O, 'Cheese'), p(A.O, 'Cheese 2'), p(A.OU, 'Simple Signing Section'), p(A.OU, 'Simple Signing Section 2'),
  p(A.CN, '*.cheese.org'), p(A.CN, '*.cheese.com'), p(A.C, 'FR'), p(A.C, 'US'), p(A.L, 'TOULOUSE'), p(A.L, 'LYON'),
  p(A.ST, 'Cheese org state'), p(A.ST, 'Cheese com state'), p(A.EMAIL, 'cert@cheese.org'),
]);
const ISSUER = nameDer([
  p(A.DC, 'org'), p(A.DC, 'cheese'), p(A.O, 'Cheese'), p(A.O, 'Cheese 2'), p(A.OU, 'Simple Signing Section'), p(A.OU, 'Simple Signing Section 2'),
  p(A.CN, 'Simple Signing CA'), p(A.CN, 'Simple Signing CA 2'), p(A.C, 'FR'), p(A.C, 'US'), p(A.L, 'TOULOUSE'), p(A.L, 'LYON'),
  p(A.ST, 'Signing State'), p(A.ST, 'Signing State 2'), p(A.EMAIL, 'simple@signing.com'),
]);
// Traefik's expected Subject and Issuer texts.
const TRAEFIK_SUBJECT = 'DC=org,DC=cheese,C=FR,C=US,ST=Cheese org state,ST=Cheese com state,L=TOULOUSE,L=LYON,O=Cheese,O=Cheese 2,OU=Simple Signing Section,OU=Simple Signing Section 2,CN=*.cheese.com';
const TRAEFIK_ISSUER = 'DC=org,DC=cheese,C=FR,C=US,ST=Signing State,ST=Signing State 2,L=TOULOUSE,L=LYON,O=Cheese,O=Cheese 2,CN=Simple Signing CA 2';

describe('headers/dialects: traefik and nginx formats', () => {
  it('traefik subject: DC, C, ST, L, O, OU, then the last CN (Traefik\'s test vector)', () => {
    expect(traefikDn(SUBJECT, true)).to.equal(TRAEFIK_SUBJECT);
  });

  it('traefik issuer: the same without OU (Traefik\'s test vector)', () => {
    expect(traefikDn(ISSUER, false)).to.equal(TRAEFIK_ISSUER);
  });

  it('queryEscape is Go\'s url.QueryEscape: space as "+", unreserved kept, the rest %XX', () => {
    expect(queryEscape(Buffer.from('Subject="a b";x,y=~_.-ü', 'utf8'))).to.equal('Subject%3D%22a+b%22%3Bx%2Cy%3D~_.-%C3%BC');
  });

  it('a certificate\'s info: Subject, Issuer, SerialNumber (decimal), NB, NA (Unix seconds); the header is the escaped text', () => {
    const { der } = buildCert({ subject: SUBJECT, issuer: ISSUER, notBefore: utcTime('181206111016Z'), notAfter: utcTime('201205111016Z'), serial: 1 });
    const cert = new X509Certificate(der);
    const info = `Subject="${TRAEFIK_SUBJECT}";Issuer="${TRAEFIK_ISSUER}";SerialNumber="1";NB="1544094616";NA="1607166616"`;
    expect(traefikCertInfo(cert)).to.equal(info);
    expect(traefikHeaderValues({ leaf: cert, chain: [cert], verifyCode: 0 }, { pem: true, info: true })).to.deep.equal([
      ['X-Forwarded-Tls-Client-Cert', der.toString('base64')],
      ['X-Forwarded-Tls-Client-Cert-Info', queryEscape(Buffer.from(info))],
    ]);
    expect(traefikHeaderValues({ leaf: cert, chain: [cert], verifyCode: 0 }, { pem: false, info: false })).to.deep.equal([]);
  });

  it('traefik info keeps a T61String\'s bytes as Go does (raw, %E9), a UTF8String\'s UTF-8 (%C3%A9), a BMPString as UTF-8', () => {
    const one = (tag: number, bytes: Buffer): string => {
      const { der } = buildCert({ subject: nameDer([[[A.CN, tag, bytes]]]), issuer: nameDer([p(A.CN, 'ca')]), notBefore: utcTime('181206111016Z'), notAfter: utcTime('201205111016Z'), serial: 1 });
      const header = traefikHeaderValues({ leaf: new X509Certificate(der), chain: [], verifyCode: 0 }, { pem: false, info: true })[0]![1];
      return header.slice(0, header.indexOf('%3BIssuer'));
    };
    expect(one(STR.t61, Buffer.from([0x63, 0xe9]))).to.equal('Subject%3D%22CN%3Dc%E9%22');
    expect(one(STR.utf8, Buffer.from('cé', 'utf8'))).to.equal('Subject%3D%22CN%3Dc%C3%A9%22');
    expect(one(STR.bmp, Buffer.from([0x00, 0x63, 0x00, 0xe9]))).to.equal('Subject%3D%22CN%3Dc%C3%A9%22');
  });

  it('nginx: NONE alone without a certificate; FAILED: and OpenSSL\'s text for an ignored error; empty DNs give no header', () => {
    expect(nginxHeaderValues(null)).to.deep.equal([['X-SSL-Client-Verify', 'NONE']]);
    const { der } = buildCert({ subject: nameDer([]), issuer: nameDer([p(A.CN, 'ca')]), notBefore: utcTime('181206111016Z'), notAfter: utcTime('201205111016Z') });
    const cert = new X509Certificate(der);
    expect(nginxHeaderValues({ leaf: cert, chain: [cert], verifyCode: 10 })).to.deep.equal([
      ['X-SSL-Client-Cert', encodeURIComponent(cert.toString())],
      ['X-SSL-Client-Verify', 'FAILED:certificate has expired'],
      ['X-SSL-Client-I-DN', 'CN=ca'],
    ]);
  });
});
