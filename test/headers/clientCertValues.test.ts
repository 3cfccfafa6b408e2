import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { validateHeaderValue } from 'node:http';
import type { HeaderPair } from '../../src/observe/events.js';
import {
  clientCertHeaderValues,
  legacyHeaderText,
  type ClientCertFacts,
} from '../../src/headers/clientCertValues.js';
import { H10_SET_ORDER } from '../../src/headers/h10.js';
import { expect } from 'chai';
import {
  STR,
  TempDir,
  buildCert,
  cliOneline,
  derToPem,
  generalizedTime,
  makeRoot,
  makeSigned,
  nameDer,
  openssl,
  utcTime,
  utf8,
  type MadeCert,
} from './fixtures.js';

const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
const asObject = (pairs: readonly HeaderPair[]): Record<string, string> => Object.fromEntries(pairs);
const SESSION = Buffer.from('a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90', 'hex');

describe('headers/clientCertValues', function () {
  this.timeout(60_000);
  const dir = new TempDir();
  before(() => dir.create());
  after(() => dir.remove());

  describe('the example of docs/edge-behaviour.md §6: Vatican City client, Palau root', () => {
    // openssl's CLI refuses C= values longer than 2 letters, so these two are encoded by hand
    // and signed with Node's crypto; openssl then verifies the chain, so they are real certs.
    const rootName = nameDer([[['2.5.4.6', STR.printable, utf8('Palau')]], [['2.5.4.10', STR.utf8, utf8("Pete's Café")]]]);
    const leafName = nameDer([
      [['2.5.4.6', STR.printable, utf8('Vatican City')]],
      [['2.5.4.10', STR.utf8, utf8("Víkî's Vergnügungspark")]],
      [['2.5.4.3', STR.utf8, utf8('haproxy.client')]],
    ]);
    const root = buildCert({
      subject: rootName, issuer: rootName, ca: true,
      notBefore: utcTime('240101000000Z'), notAfter: generalizedTime('20600101000000Z'),
    });
    const leaf = buildCert({
      subject: leafName, issuer: rootName, issuerKey: root.key, serial: 2,
      notBefore: utcTime('240101000000Z'), notAfter: generalizedTime('20600101000000Z'),
    });
    const facts: ClientCertFacts = { leafDer: leaf.der, chainDer: [leaf.der, root.der], verifyCode: 0, sessionId: SESSION };

    it('openssl verifies the hand-made chain', async () => {
      writeFileSync(dir.file('palau.pem'), derToPem(root.der));
      writeFileSync(dir.file('vatican.pem'), derToPem(leaf.der));
      const { stdout } = await openssl(['verify', '-CAfile', dir.file('palau.pem'), dir.file('vatican.pem')]);
      expect(stdout.toString()).to.match(/: OK/);
    });

    it('gives the ten headers, in set order, with the spec values', () => {
      const v = clientCertHeaderValues(facts, { legacyXfccHeaderMapping: false });
      expect(v.map(([n]) => n)).to.deep.equal([...H10_SET_ORDER]);
      expect(asObject(v)).to.deep.equal({
        'X-Forwarded-Client-Cert': leaf.der.toString('base64'),
        'X-SSL-Client': '1',
        'X-SSL-Client-Session-ID': 'A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90',
        'X-SSL-Client-Verify': '0',
        'X-SSL-Client-NotBefore': '240101000000Z',
        'X-SSL-Client-NotAfter': '600101000000Z',
        'X-SSL-Client-Subject-DN': b64("/C=Vatican City/O=Víkî's Vergnügungspark/CN=haproxy.client"),
        'X-SSL-Client-Subject-CN': b64('haproxy.client'),
        'X-SSL-Client-Issuer-DN': b64("/C=Palau/O=Pete's Café"),
        'X-SSL-Client-Root-CA-DN': b64("/C=Palau/O=Pete's Café"),
      });
    });

    it('decoded DN bytes equal what openssl prints raw', async () => {
      const v = asObject(clientCertHeaderValues(facts, { legacyXfccHeaderMapping: false }));
      const cli = await cliOneline(dir.file('vatican.pem'), 'subject');
      expect(Buffer.from(v['X-SSL-Client-Subject-DN']!, 'base64').toString('hex')).to.equal(cli.toString('hex'));
      const cliIssuer = await cliOneline(dir.file('vatican.pem'), 'issuer');
      expect(Buffer.from(v['X-SSL-Client-Issuer-DN']!, 'base64').toString('hex')).to.equal(cliIssuer.toString('hex'));
    });

    it('legacy mapping: the oneline text itself, UTF-8 bytes carried as latin1 chars', () => {
      const v = asObject(clientCertHeaderValues(facts, { legacyXfccHeaderMapping: true }));
      const wire = (h: string): string => Buffer.from(v[h]!, 'latin1').toString('utf8');
      expect(wire('X-SSL-Client-Subject-DN')).to.equal("/C=Vatican City/O=Víkî's Vergnügungspark/CN=haproxy.client");
      expect(wire('X-SSL-Client-Subject-CN')).to.equal('haproxy.client');
      expect(wire('X-SSL-Client-Issuer-DN')).to.equal("/C=Palau/O=Pete's Café");
      expect(wire('X-SSL-Client-Root-CA-DN')).to.equal("/C=Palau/O=Pete's Café");
      expect(v['X-Forwarded-Client-Cert']).to.equal(leaf.der.toString('base64')); // XFCC stays base64
      for (const [n, value] of Object.entries(v)) validateHeaderValue(n, value);
    });
  });

  describe('Root-CA-DN from the chain (first self-issued, else the last)', () => {
    let root: MadeCert, inter: MadeCert, leaf: MadeCert, selfSigned: MadeCert;
    before(async () => {
      root = await makeRoot(dir, 'chain-root', '/O=Chain/CN=Root CA');
      inter = await makeSigned(dir, 'chain-inter', '/O=Chain/CN=Intermediate CA', root, { ca: true, serial: '3000' });
      leaf = await makeSigned(dir, 'chain-leaf', '/O=Chain/CN=leaf', inter, { serial: '3001' });
      selfSigned = await makeRoot(dir, 'chain-self', '/CN=self signed client');
    });
    const rootDn = b64('/O=Chain/CN=Root CA');
    const interDn = b64('/O=Chain/CN=Intermediate CA');
    const cases: { title: string; chain: () => Uint8Array[]; expected: () => string }[] = [
      { title: 'leaf, intermediate, root → root', chain: () => [leaf.der, inter.der, root.der], expected: () => rootDn },
      { title: 'leaf, intermediate (no self-issued) → intermediate', chain: () => [leaf.der, inter.der], expected: () => interDn },
      { title: 'self-signed leaf alone (error 18 ignored) → the leaf', chain: () => [selfSigned.der], expected: () => b64('/CN=self signed client') },
      { title: 'root before garbage → root', chain: () => [leaf.der, root.der, Buffer.from('junk')], expected: () => rootDn },
      { title: 'garbage last, nothing self-issued → empty', chain: () => [leaf.der, Buffer.from('junk')], expected: () => '' },
      { title: 'empty chain → empty', chain: () => [], expected: () => '' },
    ];
    for (const c of cases) {
      it(c.title, () => {
        const v = asObject(clientCertHeaderValues(
          { leafDer: leaf.der, chainDer: c.chain(), verifyCode: 0, sessionId: null },
          { legacyXfccHeaderMapping: false },
        ));
        expect(v['X-SSL-Client-Root-CA-DN']).to.equal(c.expected());
        expect(v['X-SSL-Client-Issuer-DN']).to.equal(interDn);
      });
    }
  });

  describe('openssl-made edge cases', () => {
    it('BMPString subject, no CN, 1999/9999 dates, verify 21, no session', async () => {
      const root = await makeRoot(dir, 'edge-root', '/CN=Edge Root');
      const leaf = await makeSigned(dir, 'edge-leaf', '/O=Café/OU=Dev', root, {
        stringMask: 'pkix', startdate: '19990101000000Z', enddate: '99991231235959Z', serial: '4000',
      });
      const v = asObject(clientCertHeaderValues(
        { leafDer: leaf.der, chainDer: [leaf.der], verifyCode: 21, sessionId: null },
        { legacyXfccHeaderMapping: false },
      ));
      const cli = await cliOneline(leaf.certPath, 'subject');
      expect(Buffer.from(v['X-SSL-Client-Subject-DN']!, 'base64').toString('hex')).to.equal(cli.toString('hex'));
      expect(Buffer.from(v['X-SSL-Client-Subject-DN']!, 'base64').toString('hex')).to.equal(
        Buffer.concat([Buffer.from('/O='), Buffer.from('Café', 'utf16le').swap16(), Buffer.from('/OU=Dev')]).toString('hex'),
      );
      expect(v['X-SSL-Client-Subject-CN']).to.equal('');
      expect(v['X-SSL-Client-NotBefore']).to.equal('');
      expect(v['X-SSL-Client-NotAfter']).to.equal('');
      expect(v['X-SSL-Client-Verify']).to.equal('21');
      expect(v['X-SSL-Client-Session-ID']).to.equal('');
      expect(v['X-SSL-Client-Root-CA-DN']).to.equal(v['X-SSL-Client-Subject-DN']); // not self-issued: last = leaf
    });

    it('empty subject → empty DN and CN, headers still present', async () => {
      const root = await makeRoot(dir, 'empty-root', '/CN=Empty Root');
      const leaf = await makeSigned(dir, 'empty-leaf', '/', root, { serial: '4100' });
      const v = clientCertHeaderValues(
        { leafDer: leaf.der, chainDer: [leaf.der, root.der], verifyCode: 0, sessionId: SESSION },
        { legacyXfccHeaderMapping: false },
      );
      expect(v).to.lengthOf(10);
      expect(asObject(v)['X-SSL-Client-Subject-DN']).to.equal('');
      expect(asObject(v)['X-SSL-Client-Subject-CN']).to.equal('');
      expect(asObject(v)['X-SSL-Client-Issuer-DN']).to.equal(b64('/CN=Empty Root'));
    });

    it('legacy mapping escapes control bytes as %XX and keeps TAB and UTF-8', async () => {
      const root = await makeRoot(dir, 'ctl-root', '/CN=Ctl Root');
      const leaf = await makeSigned(dir, 'ctl-leaf', '/O=Café/CN=a\nb\x01c\td\x7fe\x1f', root, { serial: '4200' });
      const v = asObject(clientCertHeaderValues(
        { leafDer: leaf.der, chainDer: [leaf.der, root.der], verifyCode: 0, sessionId: null },
        { legacyXfccHeaderMapping: true },
      ));
      const wire = Buffer.from(v['X-SSL-Client-Subject-DN']!, 'latin1');
      expect(wire.toString('utf8')).to.equal('/O=Café/CN=a%0Ab%01c\td%7Fe%1F');
      expect(Buffer.from(v['X-SSL-Client-Subject-CN']!, 'latin1').toString('utf8')).to.equal('a%0Ab%01c\td%7Fe%1F');
      for (const [n, value] of Object.entries(v)) validateHeaderValue(n, value);
    });
  });

  describe('legacyHeaderText', () => {
    const cases: [number[] | string, string][] = [
      ['plain ascii', 'plain ascii'],
      [[0x00, 0x08, 0x09, 0x0a, 0x1f, 0x20, 0x7e, 0x7f], '%00%08\t%0A%1F ~%7F'],
      [[0xc3, 0xa9], '\xc3\xa9'], // UTF-8 é: two latin1 chars = the two raw bytes on the wire
      [[0x00, 0xe9], '%00\xe9'], // BMPString é
      ['100%', '100%'], // '%' itself is not escaped
      [[], ''],
    ];
    for (const [input, expected] of cases) {
      it(JSON.stringify(input), () => {
        const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : Buffer.from(input);
        expect(legacyHeaderText(bytes)).to.equal(expected);
      });
    }
    it('property: result is always a valid Node header value and round-trips the non-control bytes', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const s = legacyHeaderText(bytes);
        validateHeaderValue('X-Test', s);
        const unescaped = Buffer.from(s.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
        if (!Buffer.from(bytes).includes(0x25)) expect(unescaped.equals(Buffer.from(bytes))).to.equal(true);
      }), { numRuns: 500 });
    });
  });

  describe('never throws, never omits', () => {
    const cases: { title: string; facts: ClientCertFacts; expected: Record<string, string> }[] = [
      {
        title: 'garbage leaf DER: XFCC is still its base64, cert-derived values empty',
        facts: { leafDer: Buffer.from('junk'), chainDer: [Buffer.from('junk')], verifyCode: 0, sessionId: null },
        expected: { 'X-Forwarded-Client-Cert': b64('junk'), 'X-SSL-Client': '1', 'X-SSL-Client-Verify': '0' },
      },
      {
        title: 'empty leaf, odd verify code',
        facts: { leafDer: Buffer.alloc(0), chainDer: [], verifyCode: Number.NaN, sessionId: Buffer.alloc(0) },
        expected: { 'X-SSL-Client': '1' },
      },
    ];
    for (const c of cases) {
      it(c.title, () => {
        const v = clientCertHeaderValues(c.facts, { legacyXfccHeaderMapping: false });
        expect(v.map(([n]) => n)).to.deep.equal([...H10_SET_ORDER]);
        const want = Object.fromEntries(H10_SET_ORDER.map((n) => [n, c.expected[n] ?? '']));
        expect(asObject(v)).to.deep.equal(want);
      });
    }

    it('property: random bytes anywhere → ten pairs in set order', () => {
      fc.assert(fc.property(
        fc.uint8Array({ maxLength: 200 }), fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 3 }),
        fc.integer(), fc.option(fc.uint8Array({ maxLength: 40 })), fc.boolean(),
        (leafDer, chainDer, verifyCode, sessionId, legacy) => {
          const v = clientCertHeaderValues({ leafDer, chainDer, verifyCode, sessionId }, { legacyXfccHeaderMapping: legacy });
          expect(v.map(([n]) => n)).to.deep.equal([...H10_SET_ORDER]);
          for (const [n, value] of v) validateHeaderValue(n, value);
        }), { numRuns: 500 });
    });
  });
});

describe("clientCertHeaderValues: HAProxy's base64 limit (measured with 2.6 and 3.2)", () => {
  // a2base64 fails when the encoding is not below tune.bufsize; set-header then writes an empty value.
  const TABLE: readonly { der: number; sampleBytes?: number; xfcc: number }[] = [
    { der: 12285, xfcc: 16380 },
    { der: 12286, xfcc: 0 },
    { der: 30000, xfcc: 0 },
    { der: 6141, sampleBytes: 8192, xfcc: 8188 },
    { der: 6142, sampleBytes: 8192, xfcc: 0 },
  ];
  for (const row of TABLE) {
    it(`${row.der}-byte leaf, buffer ${row.sampleBytes ?? 16384}: X-Forwarded-Client-Cert ${row.xfcc} bytes`, () => {
      const values = clientCertHeaderValues(
        { leafDer: new Uint8Array(row.der).fill(0x30), chainDer: [], verifyCode: 0, sessionId: null },
        { legacyXfccHeaderMapping: false, sampleBytes: row.sampleBytes },
      );
      expect(values[0]![1].length).to.equal(row.xfcc);
      expect(values[1]).to.deep.equal(['X-SSL-Client', '1']);
    });
  }
});
