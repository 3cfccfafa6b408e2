// The reader's SANs (src/app/subjectAltNames.ts): read with the project's DER walker, capped at
// MAX_SANS, and every malformed or over-long list is `unreadable`, never shortened or emptied (an
// allow-list by SAN must not decide on part of the list). Issue 22 review: san-heavy reproducers.
import { expect } from 'chai';
import { readClientCert } from '../../src/app/index.js';
import { MAX_SANS } from '../../src/app/limits.js';
import { buildCertificate, generateCertKey, simpleName, tlv, type CertKey, type ExtensionSpec, type SanSpec } from '../../src/pki/certBuilder.js';

const SAN_OID = '2.5.29.17';
const ipSans = (n: number): SanSpec[] => Array.from({ length: n }, (_, i) => ({ ip: `10.0.${i >> 8}.${i & 255}` }));
/** GeneralNames with one raw member (context class, primitive). */
const rawSan = (tag: number, contents: Buffer): ExtensionSpec => ({ kind: 'raw', oid: SAN_OID, value: tlv(0x30, tlv(0x80 | tag, contents)) });

interface SanCase {
  readonly label: string;
  readonly extensions: readonly ExtensionSpec[];
  /** The SANs read, or the unreadable reason. */
  readonly expect: { readonly ip?: readonly string[]; readonly dns?: readonly string[]; readonly count?: number } | string;
}

const CASES: readonly SanCase[] = [
  { label: `${MAX_SANS} SANs are read`, extensions: [{ kind: 'subjectAltName', names: ipSans(MAX_SANS) }], expect: { count: MAX_SANS } },
  {
    label: `${MAX_SANS + 1} SANs are unreadable, not cut to ${MAX_SANS}`,
    extensions: [{ kind: 'subjectAltName', names: ipSans(MAX_SANS + 1) }],
    expect: `the client certificate has more than ${MAX_SANS} subject alternative names`,
  },
  { label: '1,800 IP SANs (the reviewer\'s slow certificate) are unreadable', extensions: [{ kind: 'subjectAltName', names: ipSans(1800) }], expect: `the client certificate has more than ${MAX_SANS} subject alternative names` },
  {
    label: 'IPv6 as RFC 5952 writes it, the first longest zero run compressed, IPv4-mapped in hex (the builder writes mixed notation wrongly, so the input is hex)',
    extensions: [{ kind: 'subjectAltName', names: [{ ip: '2001:db8:0:0:1:0:0:1' }, { ip: '::ffff:a01:203' }, { ip: '2001:db8:0:1:1:1:1:1' }, { ip: '::' }] }],
    expect: { ip: ['2001:db8::1:0:0:1', '::ffff:a01:203', '2001:db8:0:1:1:1:1:1', '::'] },
  },
  { label: 'an IA5String SAN keeps its bytes (one character per byte)', extensions: [rawSan(2, Buffer.from([0x61, 0xe9, 0x00, 0x2c]))], expect: { dns: ['a\u00e9\u0000,'] } },
  { label: 'an IP SAN of 5 bytes is unreadable', extensions: [rawSan(7, Buffer.from([1, 2, 3, 4, 5]))], expect: 'the client certificate has an IP address SAN that is neither 4 nor 16 bytes' },
  {
    label: 'two subjectAltName extensions are unreadable (software disagrees on which one counts)',
    extensions: [{ kind: 'subjectAltName', names: [{ dns: 'a.example' }] }, { kind: 'subjectAltName', names: [{ dns: 'b.example' }] }],
    expect: 'the client certificate has two subjectAltName extensions',
  },
  {
    label: 'a truncated SAN list is unreadable',
    extensions: [{ kind: 'raw', oid: SAN_OID, value: Buffer.from([0x30, 0x06, 0x82, 0x01, 0x61]) }],
    expect: 'the client certificate has malformed extensions or a malformed subjectAltName extension',
  },
  {
    label: 'bytes after the SAN list are unreadable',
    extensions: [{ kind: 'raw', oid: SAN_OID, value: Buffer.concat([tlv(0x30, tlv(0x82, Buffer.from('a'))), Buffer.from([0])]) }],
    expect: 'the client certificate has malformed extensions or a malformed subjectAltName extension',
  },
  { label: 'a constructed dNSName is unreadable', extensions: [{ kind: 'raw', oid: SAN_OID, value: tlv(0x30, tlv(0xa2, tlv(0x16, Buffer.from('a')))) }], expect: 'the client certificate has malformed extensions or a malformed subjectAltName extension' },
];

describe('app reader: subject alternative names', function () {
  this.timeout(60_000);
  let key: CertKey;
  before(async () => {
    key = await generateCertKey('ec-p256');
  });

  const certDer = (extensions: readonly ExtensionSpec[]): Buffer =>
    buildCertificate({ subject: simpleName([['CN', 'x']]), subjectKey: key, notBefore: new Date(0), notAfter: new Date(4e12), extensions }).der;
  /** The cf edge's headers for a verified certificate. */
  const readDer = (der: Buffer) => readClientCert(['X-Forwarded-Client-Cert', der.toString('base64'), 'X-SSL-Client', '1', 'X-SSL-Client-Verify', '0'], { dialect: 'cf' });
  const read = (extensions: readonly ExtensionSpec[]) => readDer(certDer(extensions));

  for (const c of CASES) {
    it(c.label, () => {
      const r = read(c.extensions);
      if (typeof c.expect === 'string') {
        expect(r).to.deep.include({ status: 'unreadable', reason: c.expect });
        return;
      }
      expect(r.status).to.equal('verified');
      if (r.status !== 'verified') return;
      const sans = r.certificate.sans;
      if (c.expect.count !== undefined) expect(sans.ip.length).to.equal(c.expect.count);
      if (c.expect.ip) expect(sans.ip).to.deep.equal(c.expect.ip);
      if (c.expect.dns) expect(sans.dns).to.deep.equal(c.expect.dns);
    });
  }
});
