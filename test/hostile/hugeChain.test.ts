// A client that pads its certificate chain with a hundred unrelated certificates, over and over. Node
// links every certificate sent when the chain is first read (about 25 ms for 150 small ones), so a
// refused client could make each of its handshakes cost the edge ten ordinary ones. Without an ignore
// list the chain cannot change the verdict and is left unread (the event shows the leaf alone, marked
// truncated); with one it is read, since the verdict depends on it. A small chain is always read.
// Explain mode keeps the refused connection open for its 495 page: over the limit, the page and the
// event describe the leaf alone and say why, since otherwise every new leaf would link the padding.
import { expect } from 'chai';
import tls from 'node:tls';
import { CHAIN_READ_MAX_BYTES } from '../../src/tls/peerCertificate.js';
import type { EdgeEvent, HandshakeRejectedEvent } from '../../src/observe/events.js';
import { forgeCert, forgeKey, keyPem, pem, ROOT_EXT, LEAF_EXT, validNow } from '../support/certForge.js';
import { clientIdentity, httpsRequest, startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import type { CertSummary } from '../../src/observe/events.js';

const leafKey = forgeKey();
const padKey = forgeKey();
const leafDer = forgeCert({ subject: 'padded leaf', issuer: 'padded leaf', serial: 1, key: leafKey, signer: leafKey, ...validNow(), ...LEAF_EXT });

/** The self-signed leaf, then `n` unrelated self-signed certificates. */
function paddedChain(n: number): string {
  const pads = Array.from({ length: n }, (_, i) => forgeCert({ subject: `pad ${i}`, issuer: `pad ${i}`, serial: 100 + i, key: padKey, signer: padKey, ...validNow(), ...ROOT_EXT }));
  return [leafDer, ...pads].map((d) => pem(d, 'CERTIFICATE')).join('');
}

/** Presents the chain; resolves once the connection is over (these handshakes are refused). */
function present(port: number, chain: string, maxVersion: 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, cert: chain, key: keyPem(leafKey), maxVersion });
    const timer = setTimeout(() => s.destroy(), 5000);
    let outcome = 'closed';
    s.on('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
    s.on('data', () => (outcome = 'answered'));
    s.on('error', (e: Error & { code?: string }) => (outcome = e.code ?? e.message));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(outcome);
    });
  });
}

const rejections = (events: readonly EdgeEvent[]): HandshakeRejectedEvent[] => events.filter((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected');

describe('hostile: a client chain padded with unrelated certificates', function () {
  this.timeout(30_000);
  const big = paddedChain(100);
  const small = paddedChain(3);
  before(() => {
    // The case is about a flight above the limit; make sure the padding gets there.
    expect(Buffer.byteLength(big)).to.be.above(CHAIN_READ_MAX_BYTES * 1.2);
  });

  describe('no ignore list (the default)', () => {
    let edge: TestEdge;
    before(async () => {
      edge = await startTestEdge();
    });
    after(() => edge.close());

    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`${version}: refused as self-signed (18); the event shows the leaf alone, marked truncated; the edge serves the next client`, async () => {
        const before = rejections(edge.events).length;
        expect(await present(edge.httpsPort, big, version)).to.not.equal('answered');
        const r = rejections(edge.events).slice(before);
        expect(r).to.have.length(1);
        expect(r[0]!.verify?.code).to.equal(18);
        expect(r[0]!.cert?.subject).to.equal('CN=padded leaf');
        expect(r[0]!.cert?.chain).to.deep.equal([]);
        expect(r[0]!.cert?.chainTruncated).to.equal(true);
        expect((await httpsRequest(edge.httpsPort, { identity: await clientIdentity('valid') })).status).to.equal(200);
      });
    }

    it('a small padded chain is read: the event lists what the client sent', async () => {
      const before = rejections(edge.events).length;
      await present(edge.httpsPort, small, 'TLSv1.3');
      const r = rejections(edge.events).slice(before);
      expect(r).to.have.length(1);
      expect(r[0]!.cert?.chain.map((c) => c.subject)).to.deep.equal(['CN=pad 0', 'CN=pad 1', 'CN=pad 2']);
      expect(r[0]!.cert?.chainTruncated).to.equal(false);
    });
  });

  describe('an ignore list that could accept (here 10, not 18)', () => {
    let edge: TestEdge;
    before(async () => {
      edge = await startTestEdge({ ignoreErrors: '10' });
    });
    after(() => edge.close());

    it('the large chain is read, since the verdict depends on it: still refused (18 is not ignored), the chain shown up to its limit', async () => {
      const before = rejections(edge.events).length;
      expect(await present(edge.httpsPort, big, 'TLSv1.3')).to.not.equal('answered');
      const r = rejections(edge.events).slice(before);
      expect(r).to.have.length(1);
      expect(r[0]!.verify?.code).to.equal(18);
      expect(r[0]!.cert?.chain.length).to.be.above(0);
      expect(r[0]!.cert?.chainTruncated).to.equal(true);
    });
  });
});

describe('hostile: a padded client chain in explain mode', function () {
  this.timeout(30_000);
  const big = paddedChain(100);
  const small = paddedChain(3);
  const NOT_READ = /^chain not read: the client sent more than 32 KiB in its handshake/;
  let edge: TestEdge;
  before(async () => {
    edge = await startTestEdge({ explainRejections: true });
  });
  after(() => edge?.close());

  /**
   * One request with the chain; the 495 page, the rejection event it caused, and how often the edge
   * asked a socket for its peer's X509Certificate (the call that links every certificate sent; the
   * https client does not make it, so every call counted is the edge's).
   */
  async function explained(chain: string, accept: string, maxVersion: 'TLSv1.2' | 'TLSv1.3'): Promise<{ status: number; body: string; event: HandshakeRejectedEvent; links: number }> {
    const before = rejections(edge.events).length;
    const original = tls.TLSSocket.prototype.getPeerX509Certificate;
    let links = 0;
    tls.TLSSocket.prototype.getPeerX509Certificate = function (this: tls.TLSSocket) {
      links++;
      return original.call(this);
    };
    let r: Awaited<ReturnType<typeof httpsRequest>>;
    try {
      r = await httpsRequest(edge.httpsPort, { identity: { cert: Buffer.from(chain), key: Buffer.from(keyPem(leafKey)) }, headers: { host: 'localhost', accept }, maxVersion });
    } finally {
      tls.TLSSocket.prototype.getPeerX509Certificate = original;
    }
    const events = rejections(edge.events).slice(before);
    expect(events).to.have.length(1);
    return { status: r.status, body: r.body, event: events[0]!, links };
  }

  /** Over the bound: the leaf alone, and the chain said to be unread. */
  const leafAlone = (c: CertSummary): void => {
    expect(c.chain).to.deep.equal([]);
    expect(c.chainTruncated).to.equal(true);
    expect(c.chainNotRead).to.match(NOT_READ);
  };
  const CASES: readonly { name: string; chain: string; maxVersion: 'TLSv1.2' | 'TLSv1.3'; links: number; cert: (c: CertSummary) => void }[] = [
    {
      name: 'over 32 KiB, TLS 1.2: the leaf alone, the chain said to be unread',
      chain: big,
      maxVersion: 'TLSv1.2',
      links: 0,
      cert: leafAlone,
    },
    {
      name: 'over 32 KiB, TLS 1.3: the same',
      chain: big,
      maxVersion: 'TLSv1.3',
      links: 0,
      cert: leafAlone,
    },
    {
      name: 'a small padded chain: read and listed, as before',
      chain: small,
      maxVersion: 'TLSv1.3',
      // The verdict reads it (chainErrors); the page reuses that read.
      links: 1,
      cert: (c) => {
        expect(c.chain.map((x) => x.subject)).to.deep.equal(['CN=pad 0', 'CN=pad 1', 'CN=pad 2']);
        expect(c.chainTruncated).to.equal(false);
        expect(c).to.not.have.property('chainNotRead');
      },
    },
  ];

  for (const c of CASES) {
    it(`${c.name}: in the JSON page and the rejection event; the edge serves the next client`, async () => {
      const { status, body, event, links } = await explained(c.chain, 'application/json', c.maxVersion);
      expect(status).to.equal(495);
      expect(links, 'peer X509Certificate reads (each links the whole chain sent)').to.equal(c.links);
      const page = JSON.parse(body) as { verify: { code: number } | null; certificate: CertSummary | null };
      expect(page.verify?.code).to.equal(18);
      expect(page.certificate?.subject).to.equal('CN=padded leaf');
      c.cert(page.certificate!);
      expect(event.explained).to.equal(true);
      expect(event.verify?.code).to.equal(18);
      expect(event.cert?.subject).to.equal('CN=padded leaf');
      c.cert(event.cert!);
      expect((await httpsRequest(edge.httpsPort, { identity: await clientIdentity('valid') })).status).to.equal(200);
    });
  }

  for (const accept of ['text/html', 'text/plain']) {
    it(`over 32 KiB, ${accept}: the page names the leaf and says the chain was not read; a small chain's page does not`, async () => {
      const over = await explained(big, accept, 'TLSv1.3');
      expect(over.status).to.equal(495);
      expect(over.body).to.include('CN=padded leaf').and.to.include('chain not read: the client sent more than 32 KiB in its handshake');
      const under = await explained(small, accept, 'TLSv1.3');
      expect(under.status).to.equal(495);
      expect(under.body).to.include('CN=padded leaf').and.not.to.include('chain not read');
    });
  }
});
