import { rawCertFields } from '../../src/headers/certFields.js';
import { haproxyTime } from '../../src/headers/certTime.js';
import { writeFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  TempDir,
  buildCert,
  derToPem,
  generalizedTime,
  makeRoot,
  makeSigned,
  nameDer,
  openssl,
  utcTime,
  utf8,
  STR,
  type MadeCert,
} from './fixtures.js';

describe('headers/certFields', function () {
  this.timeout(60_000);
  const dir = new TempDir();
  let root: MadeCert;
  before(async () => {
    dir.create();
    root = await makeRoot(dir, 'fields-root', '/O=Fields Root/CN=root');
  });
  after(() => dir.remove());

  // Dates set with `openssl ca -startdate/-enddate`: openssl encodes 1950-2049 as UTCTime and
  // everything else as GeneralizedTime (RFC 5280), which is what real certificates carry.
  const DATES: {
    title: string;
    start: string;
    end: string;
    nb: [string, string, string];
    na: [string, string, string];
  }[] = [
    {
      title: 'UTCTime 1999 → 2060 GeneralizedTime',
      start: '19990101000000Z',
      end: '20600101000000Z',
      nb: ['utc', '990101000000Z', ''],
      na: ['generalized', '20600101000000Z', '600101000000Z'],
    },
    {
      title: 'UTCTime 2024 → GeneralizedTime 9999',
      start: '20240229123456Z',
      end: '99991231235959Z',
      nb: ['utc', '240229123456Z', '240229123456Z'],
      na: ['generalized', '99991231235959Z', ''],
    },
    {
      title: 'UTCTime both (2001 → 2049)',
      start: '010101000000Z',
      end: '491231235959Z',
      nb: ['utc', '010101000000Z', '010101000000Z'],
      na: ['utc', '491231235959Z', '491231235959Z'],
    },
  ];

  DATES.forEach((d, i) => {
    it(`openssl ca dates: ${d.title}`, async () => {
      const leaf = await makeSigned(dir, `dates-${i}`, `/CN=dates ${i}`, root, {
        startdate: d.start,
        enddate: d.end,
        serial: `10${i}0`,
      });
      const f = rawCertFields(leaf.der);
      expect([f.notBefore.tag, f.notBefore.text]).to.deep.equal(d.nb.slice(0, 2));
      expect([f.notAfter.tag, f.notAfter.text]).to.deep.equal(d.na.slice(0, 2));
      expect(haproxyTime(f.notBefore.tag, f.notBefore.text)).to.equal(d.nb[2]);
      expect(haproxyTime(f.notAfter.tag, f.notAfter.text)).to.equal(d.na[2]);
      // openssl agrees on what the fields are
      const { stdout } = await openssl(['asn1parse', '-in', leaf.certPath]);
      const listing = stdout.toString('latin1');
      expect(listing).to.match(new RegExp(`${d.nb[0] === 'utc' ? 'UTCTIME' : 'GENERALIZEDTIME'}\\s+:${d.nb[1]}`));
      expect(listing).to.match(new RegExp(`${d.na[0] === 'utc' ? 'UTCTIME' : 'GENERALIZEDTIME'}\\s+:${d.na[1]}`));
      expect(f.selfIssued).to.equal(false);
    });
  });

  it('subject/issuer are the exact DER bytes of the certificate (views, not re-encodings)', async () => {
    const leaf = await makeSigned(dir, 'views', '/C=DE/O=Leaf Org/CN=leaf', root, { serial: '2000' });
    const f = rawCertFields(leaf.der);
    const rootF = rawCertFields(root.der);
    expect(f.issuerDer.equals(rootF.subjectDer)).to.equal(true);
    expect(leaf.der.indexOf(f.subjectDer)).to.equal(f.subjectDer.byteOffset - leaf.der.byteOffset);
    expect(rootF.selfIssued).to.equal(true);
  });

  it('v1 certificate (no version field), GeneralizedTime in 2030; openssl parses it', async () => {
    const name = nameDer([[['2.5.4.3', STR.utf8, utf8('v1')]]]);
    const c = buildCert({
      subject: name,
      issuer: name,
      notBefore: generalizedTime('20300101000000Z'),
      notAfter: utcTime('300101000000Z'),
      v1: true,
    });
    const f = rawCertFields(c.der);
    expect(f.notBefore).to.deep.equal({ tag: 'generalized', text: '20300101000000Z' });
    expect(f.notAfter).to.deep.equal({ tag: 'utc', text: '300101000000Z' });
    expect(f.selfIssued).to.equal(true);
    const path = dir.file('v1.pem');
    writeFileSync(path, derToPem(c.der));
    const { stdout } = await openssl(['x509', '-in', path, '-noout', '-text']);
    expect(stdout.toString()).to.match(/Version: 1 \(0x0\)/);
  });

  it('throws on garbage', () => {
    for (const bad of [Buffer.alloc(0), Buffer.from('not a cert'), Buffer.from([0x30, 0x03, 0x30, 0x01, 0x00])]) {
      expect(() => rawCertFields(bad)).to.throw();
    }
  });
});
