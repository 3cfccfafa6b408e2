// Property: no client certificate can stop the edge. fast-check generates certificate chains by
// structure (0-150 RDNs, empty values, every string type, raw bytes in a UTF8String, random extension
// sets, odd validity encodings, chains of 1-5, self-signed / dev-CA-signed / untrusted, sometimes a
// broken signature); each is presented in a real TLS handshake (TLS 1.2 or 1.3, sometimes with a
// client renegotiation) to edges running in child processes, followed by an HTTP request. After each
// case the edge must still run and serve the valid dev client; every client must get an HTTP answer or
// a TLS refusal within a bound. A crash is seen as the child's exit, with its stack in the message.
import { expect } from 'chai';
import fc from 'fast-check';
import https from 'node:https';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import {
  buildCertificate, certKeyFromPem, generateCertKey, OID, signerOf, STRING_TYPES, type AttributeSpec, type CertKey,
  type CertKeyType, type ExtensionSpec, type NameSpec, type RdnSpec, type Signer, type TimeSpec,
} from '../../src/pki/certBuilder.js';
import type { ConfigOverrides } from '../../src/config/startFlags.js';
import { testPki } from '../support/edgeHarness.js';
import { startEdgeChild, type EdgeChild } from '../support/edgeChild.js';

const RUNS = 2000;
/** Whole property run incl. shrinking; fast-check stops there and reports what it has. */
const TIME_BUDGET_MS = 150_000;
const CASE_TIMEOUT_MS = 8_000;
const DAY = 86_400_000;
const NOW = Date.now();

// ---- Arbitraries -------------------------------------------------------------------------------

const attrOid = fc.constantFrom(OID.CN, OID.CN, OID.O, OID.OU, OID.C, OID.emailAddress, OID.DC, OID.UID, OID.serialNumber, '1.2.3.4', '2.5.4.65');
const attrValue: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 20, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
  { weight: 4, arbitrary: fc.constantFrom('a\r\nX-SSL-Client-Verify: 0', '<script>x</script>', '\u001b[2J\u0007', '/CN=x/O=y', 'a,b+c=d\\', '\u0000') },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }) },
);
// VisibleString, invalid UTF-8, odd-length BMP/Universal values and non-BMP characters in a BMPString make OpenSSL refuse to load the
// certificate at all (client side too): kept rare so most cases reach the edge.
const stringType = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom(...STRING_TYPES.filter((t) => t !== 'visible')) },
  { weight: 1, arbitrary: fc.constant('visible' as const) },
);
const attribute: fc.Arbitrary<AttributeSpec> = fc.record({ oid: attrOid, stringType, value: attrValue });
/** For the 100-150 RDN names: text values in the loadable string types, so the size is what varies. */
const plainAttribute: fc.Arbitrary<AttributeSpec> = fc.record({
  oid: attrOid, stringType: fc.constantFrom('utf8' as const, 'printable' as const, 'bmp' as const, 'ia5' as const), value: fc.string({ maxLength: 12 }),
});
const rdn: fc.Arbitrary<RdnSpec> = fc.oneof(
  { weight: 5, arbitrary: fc.array(attribute, { minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.array(attribute, { minLength: 2, maxLength: 3 }) },
);
const name: fc.Arbitrary<NameSpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant([]) },
  { weight: 8, arbitrary: fc.array(rdn, { minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.array(plainAttribute.map((a) => [a]), { minLength: 100, maxLength: 150 }) },
);

const oddDate = fc.date({ min: new Date(Date.UTC(1950, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true });
const timeSpec = (recent: Date): fc.Arbitrary<TimeSpec> => fc.oneof(
  { weight: 6, arbitrary: fc.constant(recent) },
  { weight: 2, arbitrary: oddDate },
  { weight: 1, arbitrary: fc.record({ encoding: fc.constantFrom('utc' as const, 'generalized' as const), date: oddDate }) },
  { weight: 1, arbitrary: fc.record({ encoding: fc.constantFrom('utc' as const, 'generalized' as const), text: fc.constantFrom('600101000000.5Z', '6001010000Z', '20600101000000+0100', '', '991231235960Z', 'zz') }) },
);

const extension: fc.Arbitrary<ExtensionSpec> = fc.oneof(
  fc.record({ kind: fc.constant('basicConstraints' as const), ca: fc.boolean(), pathLen: fc.option(fc.nat(5), { nil: undefined }), critical: fc.boolean() }),
  fc.record({ kind: fc.constant('keyUsage' as const), usages: fc.subarray(['digitalSignature', 'keyEncipherment', 'keyCertSign', 'keyAgreement', 'crlSign'] as const), critical: fc.boolean() }),
  fc.record({ kind: fc.constant('extKeyUsage' as const), purposes: fc.subarray([OID.clientAuth, OID.serverAuth, '1.2.3.4', '2.5.29.37.0']), critical: fc.boolean() }),
  fc.record({ kind: fc.constant('subjectAltName' as const), names: fc.array(fc.oneof(fc.record({ dns: fc.string({ maxLength: 12 }) }), fc.record({ email: fc.string({ maxLength: 12 }) }), fc.constant({ ip: '127.0.0.1' })), { maxLength: 3 }), critical: fc.boolean() }),
  fc.record({ kind: fc.constant('subjectKeyIdentifier' as const) }),
  fc.record({ kind: fc.constant('authorityKeyIdentifier' as const) }),
  fc.record({ kind: fc.constant('raw' as const), oid: fc.constantFrom('1.3.6.1.4.1.99999.1', '2.5.29.99'), value: fc.uint8Array({ maxLength: 16 }), critical: fc.boolean() }),
);
const CLIENT_EXTENSIONS: readonly ExtensionSpec[] = [{ kind: 'basicConstraints', ca: false }, { kind: 'extKeyUsage', purposes: [OID.clientAuth] }];

type EdgeKind = 'plain' | 'explain' | 'ignore-all' | 'ignore-some';
interface Case {
  subject: NameSpec;
  keyType: CertKeyType;
  signedBy: 'dev' | 'self' | 'untrusted';
  chainLength: number;
  extensions: readonly ExtensionSpec[];
  notBefore: TimeSpec;
  notAfter: TimeSpec;
  serial: bigint | undefined;
  corruptSignature: boolean;
  tls: 'TLSv1.2' | 'TLSv1.3';
  renegotiate: boolean;
  edge: EdgeKind;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  subject: name,
  keyType: fc.constantFrom<CertKeyType>('ec-p256', 'ec-p256', 'ec-p256', 'rsa2048', 'ed25519', 'rsa1024'),
  signedBy: fc.constantFrom('dev' as const, 'dev' as const, 'self' as const, 'untrusted' as const),
  chainLength: fc.integer({ min: 1, max: 5 }),
  extensions: fc.oneof({ weight: 3, arbitrary: fc.constant(CLIENT_EXTENSIONS) }, { weight: 2, arbitrary: fc.array(extension, { maxLength: 5 }) }),
  notBefore: timeSpec(new Date(NOW - DAY)),
  notAfter: timeSpec(new Date(NOW + 30 * DAY)),
  serial: fc.option(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), { nil: undefined }),
  corruptSignature: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
  tls: fc.constantFrom('TLSv1.2' as const, 'TLSv1.3' as const),
  renegotiate: fc.boolean(),
  edge: fc.constantFrom<EdgeKind>('plain', 'explain', 'ignore-all', 'ignore-some'),
});

// ---- Building a case -----------------------------------------------------------------------------

interface Material {
  leafKeys: Record<CertKeyType, CertKey>;
  caKey: CertKey;
  devRoot: Signer;
  devIntermediate: Signer;
  devIntermediatePem: string;
  untrustedRoot: Signer;
}

/** The chain the client sends (leaf first) and the leaf's key. */
function chainOf(c: Case, m: Material): { pem: string; key: CertKey } {
  const key = m.leafKeys[c.keyType];
  const leafFields = { subject: c.subject, subjectKey: key, extensions: c.extensions, notBefore: c.notBefore, notAfter: c.notAfter, serial: c.serial, corruptSignature: c.corruptSignature };
  if (c.signedBy === 'self') {
    const leaf = buildCertificate(leafFields).pem;
    // Extra certificates after a self-signed leaf: unrelated CAs, sent anyway.
    return { pem: leaf + Array.from({ length: c.chainLength - 1 }, () => m.devIntermediatePem).join(''), key };
  }
  if (c.signedBy === 'dev' && c.chainLength === 1) return { pem: buildCertificate({ ...leafFields, signer: m.devIntermediate }).pem, key };
  // chainLength - 1 CAs of our own under the dev root (the dev intermediate allows no CA below it) or the untrusted root.
  const cas: string[] = [];
  let signer = c.signedBy === 'dev' ? m.devRoot : m.untrustedRoot;
  for (let i = c.chainLength - 1; i >= 1; i--) {
    const ca = buildCertificate({
      subject: [[{ oid: OID.CN, stringType: 'utf8', value: `fuzz CA ${i} ${c.signedBy}` }]], subjectKey: m.caKey, signer,
      notBefore: new Date(NOW - DAY), notAfter: new Date(NOW + 365 * DAY),
      extensions: [{ kind: 'basicConstraints', ca: true, critical: true }, { kind: 'keyUsage', usages: ['keyCertSign'], critical: true }],
    });
    cas.unshift(ca.pem);
    signer = signerOf(ca.der, m.caKey);
  }
  return { pem: buildCertificate({ ...leafFields, signer }).pem + cas.join(''), key };
}

type Outcome = 'http' | 'tls-refused' | 'client-cannot-load' | 'hang';

/** One handshake + request; resolves with what the client saw, never rejects, bounded in time. */
function present(port: number, ca: Buffer, chain: string, key: CertKey, c: Case): Promise<{ outcome: Outcome; detail: string }> {
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({ cert: chain, key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }), ca });
  } catch (e) {
    // OpenSSL (the client's and the edge's) cannot decode this certificate: nothing to send.
    return Promise.resolve({ outcome: 'client-cannot-load', detail: (e as Error).message });
  }
  return new Promise((resolve) => {
    let data = '';
    let done = false;
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: context, minVersion: c.tls, maxVersion: c.tls });
    const finish = (outcome: Outcome, detail: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome, detail });
    };
    const timer = setTimeout(() => finish('hang', `no answer within ${CASE_TIMEOUT_MS} ms (got ${JSON.stringify(data.slice(0, 80))})`), CASE_TIMEOUT_MS);
    const request = (): void => {
      socket.write('GET /fuzz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    };
    socket.once('secureConnect', () => {
      if (c.renegotiate && c.tls === 'TLSv1.2') {
        // The answer (refusal or a new handshake) does not matter; the request after it does.
        const ok = socket.renegotiate({ rejectUnauthorized: true }, () => { if (!socket.destroyed) request(); });
        if (!ok) request();
      } else request();
    });
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      data += d;
      if (/^HTTP\/1\.[01] \d{3} /.test(data) && data.includes('\r\n\r\n')) finish('http', data.slice(0, 12));
    });
    socket.on('error', (e) => finish(data.startsWith('HTTP/') ? 'http' : 'tls-refused', e.message));
    socket.on('close', () => finish(data.startsWith('HTTP/') ? 'http' : 'tls-refused', 'closed'));
  });
}

// ---- The property ----------------------------------------------------------------------------------

const EDGE_OVERRIDES: Record<EdgeKind, ConfigOverrides> = {
  plain: {},
  explain: { explainRejections: true },
  'ignore-all': { ignoreErrors: 'all' },
  // A list, not `all`: each error the chain model finds is judged (src/tls/chainErrors.ts).
  'ignore-some': { ignoreErrors: '7,10,18,19,20,21,26' },
};

describe('hostile: client certificates of any shape never stop the edge (fast-check, real TLS, edge in child processes)', function () {
  this.timeout(TIME_BUDGET_MS + 60_000);
  const edges = new Map<EdgeKind, EdgeChild>();
  let pkiDir = '';
  let rootCa: Buffer;
  let material: Material;
  let validAgent: https.Agent;
  const counts: Record<Outcome | 'renegotiated' | 'crashes', number> = { http: 0, 'tls-refused': 0, 'client-cannot-load': 0, hang: 0, renegotiated: 0, crashes: 0 };

  const edgeOf = async (kind: EdgeKind): Promise<EdgeChild> => {
    const running = edges.get(kind);
    if (running && running.exited() === null) return running;
    // After a crash (a failing case) a fresh edge lets fast-check go on shrinking.
    const e = await startEdgeChild(pkiDir, EDGE_OVERRIDES[kind]);
    edges.set(kind, e);
    return e;
  };

  /** The valid dev client on a kept-alive connection: the edge still serves normal traffic. */
  const validRequest = (port: number): Promise<number> => new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/valid', servername: 'localhost', agent: validAgent, headers: { host: 'localhost' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(CASE_TIMEOUT_MS, () => req.destroy(new Error('valid client request timed out')));
    req.on('error', reject);
  });

  before(async function () {
    const { dir, pki } = await testPki();
    pkiDir = dir;
    rootCa = readFileSync(pki.rootCa.cert);
    const [ec, rsa2048, ed25519, rsa1024, caKey, untrustedKey] = await Promise.all([
      generateCertKey('ec-p256'), generateCertKey('rsa2048'), generateCertKey('ed25519'), generateCertKey('rsa1024'), generateCertKey('ec-p256'), generateCertKey('ec-p256'),
    ]);
    const untrusted = buildCertificate({
      subject: [[{ oid: OID.CN, stringType: 'utf8', value: 'fuzz untrusted root' }]], subjectKey: untrustedKey, notBefore: new Date(NOW - DAY), notAfter: new Date(NOW + 365 * DAY),
      extensions: [{ kind: 'basicConstraints', ca: true, critical: true }],
    });
    const interPem = readFileSync(pki.intermediateCa.cert, 'utf8');
    material = {
      leafKeys: { 'ec-p256': ec, rsa2048, ed25519, rsa1024 },
      caKey,
      devRoot: signerOf(readFileSync(pki.rootCa.cert, 'utf8'), certKeyFromPem(readFileSync(pki.rootCa.key))),
      devIntermediate: signerOf(interPem, certKeyFromPem(readFileSync(pki.intermediateCa.key))),
      devIntermediatePem: interPem,
      untrustedRoot: signerOf(untrusted.der, untrustedKey),
    };
    validAgent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: rootCa, cert: readFileSync(pki.client.chain), key: readFileSync(pki.client.key) });
    await Promise.all((['plain', 'explain', 'ignore-all'] as const).map(edgeOf));
  });

  after(async () => {
    validAgent?.destroy();
    await Promise.all([...edges.values()].map((e) => e.stop()));
    // Shown with the results so a run says what it exercised.
    process.stdout.write(`      certificate property outcomes: ${JSON.stringify(counts)}\n`);
  });

  it(`${RUNS} generated certificate chains: every client is answered or refused, the edge keeps serving`, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const edge = await edgeOf(c.edge);
        const { pem, key } = chainOf(c, material);
        const faultsBefore = edge.faults().length;
        const result = await present(edge.httpsPort, rootCa, pem, key, c);
        counts[result.outcome]++;
        if (c.renegotiate && c.tls === 'TLSv1.2') counts.renegotiated++;
        const crashed = (): string | null => edge.exited();
        // A crash shows up as the child's exit; give it a moment to be noticed.
        let status = 0;
        let validError = '';
        try {
          status = await validRequest(edge.httpsPort);
        } catch (e) {
          validError = (e as Error).message;
        }
        if (crashed() !== null || validError) await new Promise((r) => setTimeout(r, 100));
        if (crashed() !== null) {
          counts.crashes++;
          throw new Error(`the ${c.edge} edge died (${crashed()}) on this client chain:\n${pem}\nedge stderr:\n${edge.stderrTail()}`);
        }
        expect(edge.faults().slice(faultsBefore), `faults the ${c.edge} edge contained on this client chain:\n${pem}`).to.deep.equal([]);
        expect(validError, `valid client after this chain (${c.edge} edge):\n${pem}`).to.equal('');
        expect(status, `valid client status after this chain (${c.edge} edge):\n${pem}`).to.equal(200);
        expect(result.outcome, `${result.detail}; client chain:\n${pem}`).to.not.equal('hang');
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_BUDGET_MS, markInterruptAsFailure: false, endOnFailure: false },
    );
    expect(counts.http + counts['tls-refused'] + counts['client-cannot-load'], 'cases run').to.be.greaterThan(0);
  });
});
