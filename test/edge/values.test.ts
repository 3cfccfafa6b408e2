// docs/edge-behaviour.md §6 value formats, byte for byte, through a real edge. Expected values come from the
// certificate files via openssl (asn1parse offsets, raw time strings) and node:crypto, not from
// src/headers.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { failurePaths, type FailureKind } from '../../src/pki/failures.js';
import { sessionIdFromSessionDer } from '../../src/headers/sessionId.js';
import { clientIdentity, httpsRequest, received, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, tlsConnect, upstreamValues } from '../support/rawHttp.js';
import { asn1Times, haproxyTimeOf, leafOf, opensslDnBytes } from './h10Expect.js';

const ucs2be = (s: string): Buffer => Buffer.from(s, 'utf16le').swap16();
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
/** A header value as the echo saw it (Node reads header bytes as latin1) back to its bytes. */
const bytesOf = (v: string | undefined): Buffer => Buffer.from(v ?? '', 'latin1');
const b64bytes = (v: string | undefined): Buffer => Buffer.from(v ?? '', 'base64');

interface SubjectCase {
  readonly kind: FailureKind;
  /** The subject DN the spec's rules give, written out by hand. */
  readonly dn: Buffer;
  /** First CN in DER order, raw bytes; empty when none. */
  readonly cn: Buffer;
}

const SUBJECTS: readonly SubjectCase[] = [
  {
    kind: 'utf8-subject',
    dn: Buffer.concat([ascii('/C=DE/O='), utf8("Víkî's Vergnügungspark"), ascii('/OU='), utf8('Straße 1/2, Zoë'), ascii('/CN='), utf8('Jürgen Groß')]),
    cn: utf8('Jürgen Groß'),
  },
  {
    kind: 'bmp-subject',
    dn: Buffer.concat([ascii('/C=DE/O='), ucs2be("Pete's Café"), ascii('/CN='), ucs2be('Bjørn BMP')]),
    cn: ucs2be('Bjørn BMP'),
  },
  { kind: 'multi-valued-rdn', dn: ascii('/C=DE/O=mtls-edge dev/OU=failures/OU=multi-valued/CN=multi-valued-rdn'), cn: ascii('multi-valued-rdn') },
  { kind: 'two-cns', dn: ascii('/C=DE/O=mtls-edge dev/CN=first-cn/CN=second-cn'), cn: ascii('first-cn') },
  { kind: 'no-cn', dn: ascii('/C=DE/O=mtls-edge dev/OU=no-cn'), cn: Buffer.alloc(0) },
];

describe('edge: header value formats (docs/edge-behaviour.md §6), byte for byte', function () {
  this.timeout(60_000);
  let t: TestEdge;
  let legacy: TestEdge;
  let dir: string;
  let rootFile: string;
  before(async () => {
    const p = await testPki();
    dir = p.dir;
    rootFile = p.pki.rootCa.cert;
    t = await startTestEdge();
    legacy = await startTestEdge({ legacyXfccHeaderMapping: true });
  });
  after(async () => {
    await t?.close();
    await legacy?.close();
  });

  for (const s of SUBJECTS) {
    it(`${s.kind}: Subject-DN and Subject-CN are base64 of the raw oneline bytes`, async () => {
      const file = failurePaths(dir, s.kind).cert;
      // The hand-written expectation agrees with what openssl sees in the DER.
      const fromOpenssl = opensslDnBytes(file, 'subject');
      expect(fromOpenssl.dn.toString('hex'), 'hand-written DN vs openssl asn1parse').to.equal(s.dn.toString('hex'));
      expect((fromOpenssl.cns[0] ?? Buffer.alloc(0)).toString('hex')).to.equal(s.cn.toString('hex'));

      const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity(s.kind) });
      expect(reply.status).to.equal(200);
      const dnValue = received(reply, 'X-SSL-Client-Subject-DN');
      const cnValue = received(reply, 'X-SSL-Client-Subject-CN');
      expect(dnValue).to.have.length(1);
      expect(cnValue, 'present even when empty').to.have.length(1);
      expect(dnValue[0]).to.match(/^[A-Za-z0-9+/]*={0,2}$/);
      expect(b64bytes(dnValue[0]).toString('hex')).to.equal(s.dn.toString('hex'));
      expect(b64bytes(cnValue[0]).toString('hex')).to.equal(s.cn.toString('hex'));
      if (s.cn.length === 0) expect(cnValue[0]).to.equal('');
      // Issuer and root are the dev intermediate and root.
      expect(b64bytes(received(reply, 'X-SSL-Client-Issuer-DN')[0]).toString('latin1')).to.equal('/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Intermediate CA');
      expect(b64bytes(received(reply, 'X-SSL-Client-Root-CA-DN')[0]).toString('latin1')).to.equal('/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Root CA');
    });

    it(`${s.kind}, legacy_xfcc_header_mapping: oneline text, control bytes as %XX`, async () => {
      const reply = await httpsRequest(legacy.httpsPort, { identity: await clientIdentity(s.kind) });
      expect(reply.status).to.equal(200);
      const escape = (b: Buffer): Buffer => {
        const out: number[] = [];
        for (const x of b) {
          if ((x <= 0x08 || (x >= 0x0a && x <= 0x1f) || x === 0x7f)) out.push(...ascii(`%${x.toString(16).toUpperCase().padStart(2, '0')}`));
          else out.push(x);
        }
        return Buffer.from(out);
      };
      expect(bytesOf(received(reply, 'X-SSL-Client-Subject-DN')[0]).toString('hex')).to.equal(escape(s.dn).toString('hex'));
      expect(bytesOf(received(reply, 'X-SSL-Client-Subject-CN')[0]).toString('hex')).to.equal(escape(s.cn).toString('hex'));
      expect(received(reply, 'X-SSL-Client-Issuer-DN')).to.deep.equal(['/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Intermediate CA']);
      expect(received(reply, 'X-SSL-Client-Root-CA-DN')).to.deep.equal(['/C=DE/O=mtls-edge dev/CN=mtls-edge Dev Root CA']);
      // XFCC stays base64 DER in legacy mode.
      expect(received(reply, 'X-Forwarded-Client-Cert')).to.deep.equal([leafOf(failurePaths(dir, s.kind).cert).raw.toString('base64')]);
    });
  }

  it('bmp-subject legacy value: UCS-2BE NUL bytes written as %00 (docs/edge-behaviour.md §6 example shape)', async () => {
    const reply = await httpsRequest(legacy.httpsPort, { identity: await clientIdentity('bmp-subject') });
    expect(received(reply, 'X-SSL-Client-Subject-CN')[0]).to.equal('%00B%00j%00\u00f8%00r%00n%00 %00B%00M%00P');
  });

  const TIMES: readonly { kind: FailureKind | 'valid'; notBefore?: string; notAfter?: string }[] = [
    { kind: 'valid' },
    { kind: 'notafter-2060', notAfter: '600101000000Z' },
    { kind: 'notbefore-1999', notBefore: '' },
  ];
  for (const c of TIMES) {
    it(`${c.kind}: NotBefore/NotAfter as the certificate encodes them (openssl asn1parse)`, async () => {
      const { pki } = await testPki();
      const file = c.kind === 'valid' ? pki.client.cert : failurePaths(dir, c.kind).cert;
      const times = asn1Times(file);
      const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity(c.kind) });
      expect(received(reply, 'X-SSL-Client-NotBefore')).to.deep.equal([c.notBefore ?? haproxyTimeOf(times.notBefore)]);
      expect(received(reply, 'X-SSL-Client-NotAfter')).to.deep.equal([c.notAfter ?? haproxyTimeOf(times.notAfter)]);
      if (c.kind === 'notafter-2060') expect(times.notAfter).to.deep.equal({ tag: 'GENERALIZEDTIME', text: '20600101000000Z' });
      if (c.kind === 'notbefore-1999') expect(times.notBefore).to.deep.equal({ tag: 'UTCTIME', text: '990101000000Z' });
      if (c.kind === 'valid') expect(received(reply, 'X-SSL-Client-NotAfter')[0]).to.match(/^\d{12}Z$/);
    });
  }

  it('X-Forwarded-Client-Cert is base64 (padded, one line) of the leaf DER only, not the chain', async () => {
    const { pki } = await testPki();
    const leaf = new X509Certificate(readFileSync(pki.client.cert));
    const reply = await httpsRequest(t.httpsPort, { identity: await clientIdentity('valid') });
    const xfcc = received(reply, 'X-Forwarded-Client-Cert');
    expect(xfcc).to.have.length(1);
    expect(xfcc[0]).to.match(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(xfcc[0]!.length % 4).to.equal(0);
    expect(xfcc[0]).to.equal(leaf.raw.toString('base64'));
    expect(new X509Certificate(Buffer.from(xfcc[0]!, 'base64')).fingerprint256).to.equal(leaf.fingerprint256);
    expect(received(reply, 'X-SSL-Client')).to.deep.equal(['1']);
    expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
    expect(b64bytes(received(reply, 'X-SSL-Client-Root-CA-DN')[0])).to.deep.equal(opensslDnBytes(rootFile, 'subject').dn);
    expect(b64bytes(received(reply, 'X-SSL-Client-Issuer-DN')[0])).to.deep.equal(opensslDnBytes(pki.client.cert, 'issuer').dn);
  });

  describe('X-SSL-Client-Session-ID', () => {
    async function twoRequestsOnOneConnection(version: 'TLSv1.2' | 'TLSv1.3'): Promise<{ ids: string[]; clientSessionId: string | null }> {
      const socket = await tlsConnect(t.httpsPort, { identity: await clientIdentity('valid'), maxVersion: version, minVersion: version });
      try {
        const reader = new ResponseReader(socket);
        const ids: string[] = [];
        for (let i = 0; i < 2; i++) {
          socket.write(`GET /req-${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
          const r = await reader.next();
          expect(r.status).to.equal(200);
          ids.push(...upstreamValues(r, 'X-SSL-Client-Session-ID'));
        }
        const fromClient = sessionIdFromSessionDer(socket.getSession());
        return { ids, clientSessionId: fromClient ? fromClient.toString('hex').toUpperCase() : null };
      } finally {
        socket.destroy();
      }
    }

    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`${version}: upper-case 64-hex, the same on two requests of one keep-alive connection`, async () => {
        const a = await twoRequestsOnOneConnection(version);
        expect(a.ids).to.have.length(2);
        expect(a.ids[0]).to.match(/^[0-9A-F]{64}$/);
        expect(a.ids[1]).to.equal(a.ids[0]);
        if (version === 'TLSv1.2') expect(a.ids[0], 'the ID the client holds in its session').to.equal(a.clientSessionId);
        const b = await twoRequestsOnOneConnection(version);
        expect(b.ids[0], 'a new connection has a new session').to.not.equal(a.ids[0]);
      });
    }
  });
});
