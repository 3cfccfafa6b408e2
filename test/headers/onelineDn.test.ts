import { expect } from 'chai';
import fc from 'fast-check';
import { rawCertFields } from '../../src/headers/certFields.js';
import { firstCnBytes, onelineDnBytes, shortNameForOid } from '../../src/headers/onelineDn.js';
import {
  STR,
  TempDir,
  bmp,
  cliOneline,
  makeRoot,
  nameDer,
  tlv,
  utf8,
  type ReqOptions,
} from './fixtures.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

interface CliCase {
  title: string;
  subj: string;
  opts?: ReqOptions;
  expected: Buffer;
  /** openssl's multiline output cannot represent values with newlines or ` + `. */
  cliComparable?: boolean;
}

const CLI_CASES: CliCase[] = [
  {
    title: 'ASCII with the everyday short names',
    subj: '/C=DE/ST=Baden-Wuerttemberg/L=Walldorf/O=SAP SE/OU=BTP/CN=client.example/emailAddress=dev@example.com',
    expected: b('/C=DE/ST=Baden-Wuerttemberg/L=Walldorf/O=SAP SE/OU=BTP/CN=client.example/emailAddress=dev@example.com'),
  },
  {
    title: 'the rest of the short-name table',
    subj:
      '/DC=com/DC=example/UID=jdoe/serialNumber=42/street=Main St 1/title=Dr/GN=Jo/SN=Doe/initials=JD' +
      '/generationQualifier=III/dnQualifier=q1/pseudonym=pj/name=nm/description=desc/postalCode=69190' +
      '/businessCategory=Private Organization/jurisdictionC=DE/jurisdictionST=BW/jurisdictionL=Walldorf' +
      '/organizationIdentifier=VATDE-123/postalAddress=PO 1/CN=x',
    expected: b(
      '/DC=com/DC=example/UID=jdoe/serialNumber=42/street=Main St 1/title=Dr/GN=Jo/SN=Doe/initials=JD' +
        '/generationQualifier=III/dnQualifier=q1/pseudonym=pj/name=nm/description=desc/postalCode=69190' +
        '/businessCategory=Private Organization/jurisdictionC=DE/jurisdictionST=BW/jurisdictionL=Walldorf' +
        '/organizationIdentifier=VATDE-123/postalAddress=PO 1/CN=x',
    ),
  },
  {
    title: '/ , + = appear literally (no escaping)',
    subj: '/O=a\\/b,c=d\\+e/CN=x=y',
    expected: b('/O=a/b,c=d+e/CN=x=y'),
  },
  {
    title: 'UTF8String stays UTF-8',
    subj: "/O=Pete's Café/CN=Víkî",
    expected: b("/O=Pete's Café/CN=Víkî"),
  },
  {
    title: 'BMPString as raw UCS-2BE (string_mask = pkix)',
    subj: '/O=Café/CN=plain',
    opts: { stringMask: 'pkix' },
    expected: Buffer.concat([b('/O='), bmp('Café'), b('/CN=plain')]),
  },
  {
    title: 'multi-valued RDN flattened in DER order (SET OF sorted by the encoder)',
    subj: '/O=Org/CN=Café+OU=zz',
    opts: { multivalueRdn: true },
    expected: b('/O=Org/OU=zz/CN=Café'),
  },
  {
    title: 'OID unknown to OpenSSL printed dotted',
    subj: '/myAttr=v/CN=x',
    opts: { newOids: { myAttr: '1.2.3.4' } },
    expected: b('/1.2.3.4=v/CN=x'),
  },
  {
    title: 'control bytes and TAB carried raw',
    subj: '/CN=l1\nl2\tt\x01',
    expected: b('/CN=l1\nl2\tt\x01'),
    cliComparable: false,
  },
  { title: 'empty name', subj: '/', expected: Buffer.alloc(0), cliComparable: false },
];

describe('headers/onelineDn', function () {
  this.timeout(60_000);
  const dir = new TempDir();
  before(() => dir.create());
  after(() => dir.remove());

  describe('certificates made by openssl req', () => {
    CLI_CASES.forEach((c, i) => {
      it(c.title, async () => {
        const cert = await makeRoot(dir, `oneline-${i}`, c.subj, c.opts);
        const f = rawCertFields(cert.der);
        expect(onelineDnBytes(f.subjectDer).toString('hex')).to.equal(c.expected.toString('hex'));
        expect(onelineDnBytes(f.issuerDer).toString('hex')).to.equal(c.expected.toString('hex'));
        if (c.cliComparable !== false) {
          const cli = await cliOneline(cert.certPath, 'subject');
          expect(onelineDnBytes(f.subjectDer).toString('hex')).to.equal(cli.toString('hex'));
        }
      });
    });
  });

  describe('hand-encoded names', () => {
    const cases: { title: string; der: Buffer; expected: Buffer }[] = [
      {
        title: 'SET OF in non-canonical order keeps the encoded order',
        der: nameDer([[['2.5.4.11', STR.utf8, utf8('b')], ['2.5.4.11', STR.utf8, utf8('a')]]]),
        expected: b('/OU=b/OU=a'),
      },
      {
        title: 'T61String bytes unchanged',
        der: nameDer([[['2.5.4.10', STR.t61, Buffer.from([0x43, 0xe9])]]]),
        expected: Buffer.from('/O=C\xe9', 'latin1'),
      },
      {
        title: 'UniversalString as raw UCS-4BE',
        der: nameDer([[['2.5.4.3', STR.universal, Buffer.from([0, 0, 0, 0x41])]]]),
        expected: Buffer.from([...b('/CN='), 0, 0, 0, 0x41]),
      },
      {
        title: 'SEQUENCE value: the whole TLV, as OpenSSL stores it',
        der: nameDer([[['1.2.3.4', tlv(0x30, tlv(0x02, Buffer.from([5])))]]]),
        expected: Buffer.concat([b('/1.2.3.4='), Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05])]),
      },
      {
        title: 'constructed (BER) string: pieces concatenated',
        der: nameDer([[['2.5.4.3', tlv(0x2c, tlv(0x0c, b('ab')), tlv(0x0c, b('cd')))]]]),
        expected: b('/CN=abcd'),
      },
      {
        title: 'big arcs stay exact (UUID OID)',
        der: nameDer([[['2.25.329800735698586629295641978511506172918', STR.utf8, b('u')]]]),
        expected: b('/2.25.329800735698586629295641978511506172918=u'),
      },
      {
        title: 'non-attribute OIDs use their OpenSSL short name too (rsaEncryption)',
        der: nameDer([[['1.2.840.113549.1.1.1', STR.utf8, b('r')]]]),
        expected: b('/rsaEncryption=r'),
      },
      {
        title: 'Microsoft EV jurisdiction and EV-style attributes',
        der: nameDer([
          [['1.3.6.1.4.1.311.60.2.1.3', STR.printable, b('DE')]],
          [['1.3.6.1.4.1.311.60.2.1.2', STR.utf8, b('BW')]],
          [['1.3.6.1.4.1.311.60.2.1.1', STR.utf8, b('Walldorf')]],
          [['2.5.4.15', STR.utf8, b('Private Organization')]],
          [['2.5.4.97', STR.utf8, b('VATDE-1')]],
        ]),
        expected: b(
          '/jurisdictionC=DE/jurisdictionST=BW/jurisdictionL=Walldorf/businessCategory=Private Organization/organizationIdentifier=VATDE-1',
        ),
      },
      {
        title: 'value longer than 255 bytes (two-byte length)',
        der: nameDer([[['2.5.4.3', STR.utf8, b('x'.repeat(300))]]]),
        expected: b('/CN=' + 'x'.repeat(300)),
      },
      { title: 'empty SEQUENCE', der: Buffer.from([0x30, 0x00]), expected: Buffer.alloc(0) },
    ];
    for (const c of cases) {
      it(c.title, () => {
        expect(onelineDnBytes(c.der).toString('hex')).to.equal(c.expected.toString('hex'));
      });
    }

    it('dotted OIDs longer than 127 chars are cut like HAProxy’s i2t_ASN1_OBJECT buffer', () => {
      const long = '1.2.' + Array.from({ length: 40 }, (_, i) => String(100000 + i)).join('.');
      const out = onelineDnBytes(nameDer([[[long, STR.utf8, b('v')]]])).toString('latin1');
      expect(out).to.equal('/' + long.slice(0, 127) + '=v');
    });

    it('throws on malformed DER (callers map it to an empty header)', () => {
      const good = nameDer([[['2.5.4.3', STR.utf8, b('abc')]]]);
      for (const bad of [good.subarray(0, good.length - 1), Buffer.from([0x31, 0x00]), Buffer.from([])]) {
        expect(() => onelineDnBytes(bad)).to.throw();
      }
    });

    it('short names come from OpenSSL’s table', () => {
      const table: [string, string][] = [
        ['2.5.4.6', 'C'], ['2.5.4.8', 'ST'], ['2.5.4.7', 'L'], ['2.5.4.10', 'O'], ['2.5.4.11', 'OU'],
        ['2.5.4.3', 'CN'], ['1.2.840.113549.1.9.1', 'emailAddress'], ['0.9.2342.19200300.100.1.25', 'DC'],
        ['0.9.2342.19200300.100.1.1', 'UID'], ['2.5.4.5', 'serialNumber'], ['2.5.4.9', 'street'],
        ['2.5.4.12', 'title'], ['2.5.4.42', 'GN'], ['2.5.4.4', 'SN'], ['2.5.4.43', 'initials'],
        ['2.5.4.44', 'generationQualifier'], ['2.5.4.46', 'dnQualifier'], ['2.5.4.65', 'pseudonym'],
        ['2.5.4.41', 'name'], ['2.5.4.13', 'description'], ['2.5.4.17', 'postalCode'],
        ['2.5.4.15', 'businessCategory'], ['1.3.6.1.4.1.311.60.2.1.3', 'jurisdictionC'],
        ['1.3.6.1.4.1.311.60.2.1.2', 'jurisdictionST'], ['1.3.6.1.4.1.311.60.2.1.1', 'jurisdictionL'],
        ['2.5.4.97', 'organizationIdentifier'], ['1.2.840.113549.1.9.2', 'unstructuredName'],
        ['2.5.4.45', 'x500UniqueIdentifier'], ['2.5.4.72', 'role'], ['1.2.3.4', '1.2.3.4'],
      ];
      for (const [o, sn] of table) expect(shortNameForOid(o), o).to.equal(sn);
    });

    it('property: any well-formed name gives the concatenation of its attributes', () => {
      const knownOid = fc.constantFrom('2.5.4.3', '2.5.4.10', '2.5.4.11', '0.9.2342.19200300.100.1.25');
      const anyOid = fc.oneof(
        knownOid,
        fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.nat(), { maxLength: 4 }))
          .map(([a, c, rest]) => [a, c, ...rest].join('.')),
      );
      const atv = fc.tuple(anyOid, fc.constantFrom(STR.utf8, STR.printable, STR.bmp, STR.ia5), fc.uint8Array({ maxLength: 300 }));
      const name = fc.array(fc.array(atv, { minLength: 1, maxLength: 3 }), { maxLength: 5 });
      fc.assert(
        fc.property(name, (rdns) => {
          const expected = Buffer.concat(
            rdns.flat().flatMap(([o, , v]) => [b('/' + shortNameForOid(o) + '='), Buffer.from(v)]),
          );
          const der = nameDer(rdns.map((r) => r.map(([o, t, v]) => [o, t, v] as const)));
          expect(onelineDnBytes(der).equals(expected)).to.equal(true);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('firstCnBytes', () => {
    const cases: { title: string; der: Buffer; expected: Buffer | null }[] = [
      {
        title: 'first CN in DER order, not the last',
        der: nameDer([[['2.5.4.3', STR.utf8, b('first')]], [['2.5.4.10', STR.utf8, b('o')]], [['2.5.4.3', STR.utf8, b('second')]]]),
        expected: b('first'),
      },
      {
        title: 'CN inside a multi-valued RDN',
        der: nameDer([[['2.5.4.11', STR.utf8, b('ou')], ['2.5.4.3', STR.utf8, b('cn')]]]),
        expected: b('cn'),
      },
      { title: 'BMPString CN raw', der: nameDer([[['2.5.4.3', STR.bmp, bmp('Café')]]]), expected: bmp('Café') },
      { title: 'no CN', der: nameDer([[['2.5.4.10', STR.utf8, b('o')]]]), expected: null },
      { title: 'empty name', der: Buffer.from([0x30, 0]), expected: null },
      { title: 'empty CN value', der: nameDer([[['2.5.4.3', STR.utf8, Buffer.alloc(0)]]]), expected: Buffer.alloc(0) },
    ];
    for (const c of cases) {
      it(c.title, () => {
        const got = firstCnBytes(c.der);
        expect(got === null ? null : got.toString('hex')).to.equal(c.expected === null ? null : c.expected.toString('hex'));
      });
    }
  });
});
