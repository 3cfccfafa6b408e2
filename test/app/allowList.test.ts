// requireClientCert's allow-list against certificates a hostile client can get from the same CA
// (issue 22 review: test/app reproducers allowlist-dn, auto-footgun, san-heavy). Real TLS: each
// certificate is presented to a cf edge, whose headers reach an app that runs one guard per path.
// Every crafted certificate must be refused by every allow-list meant for dev-client; the genuine
// one must pass. Options the middleware cannot apply safely throw when it is made.
import { expect } from 'chai';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { requireClientCert, type RequestWithClientCert, type RequireClientCertOptions } from '../../src/app/index.js';
import { buildCertificate, certKeyFromPem, generateCertKey, OID, signerOf, simpleName, type CertKey, type NameSpec, type SanSpec, type Signer } from '../../src/pki/certBuilder.js';
import { httpsRequest, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback, type LoopbackServer } from '../support/loopbackServer.js';

const DEV_CLIENT = 'CN=dev-client,OU=clients,O=mtls-edge dev,C=DE';
const DEV_INTERMEDIATE = 'CN=mtls-edge Dev Intermediate CA,O=mtls-edge dev,C=DE';
const DEV_CLIENT_ONELINE = '/C=DE/O=mtls-edge dev/OU=clients/CN=dev-client';

/** Allow-lists meant to let dev-client (and only it) in. */
const GUARDS: Readonly<Record<string, RequireClientCertOptions['allow']>> = {
  // docs/app-reader.md, the Express example.
  docs: { issuers: [DEV_INTERMEDIATE], subjects: [DEV_CLIENT] },
  subject: { subjects: [DEV_CLIENT] },
  cn: { commonNames: ['dev-client'] },
  uri: { sans: ['URI:spiffe://mtls-edge/dev-client'] },
};

interface CertCase {
  readonly label: string;
  readonly subject: NameSpec;
  readonly sans?: readonly SanSpec[];
  /** Per guard: the answer; absent guards refuse with 403. */
  readonly pass: readonly (keyof typeof GUARDS)[];
  /** The commonNames refusal when it is not the plain one. */
  readonly cnReason?: string;
}

const pairs = (...p: [string, string][]): NameSpec => simpleName(p);
const DEV = (cn: string): NameSpec => pairs(['C', 'DE'], ['O', 'mtls-edge dev'], ['OU', 'clients'], ['CN', cn]);

const CERTS: readonly CertCase[] = [
  { label: 'the genuine subject passes every guard', subject: DEV('dev-client'), sans: [{ uri: 'spiffe://mtls-edge/dev-client' }], pass: ['docs', 'subject', 'cn', 'uri'] },
  { label: 'the genuine subject in PrintableString: the same name', subject: simpleName([['C', 'DE'], ['O', 'mtls-edge dev'], ['OU', 'clients'], ['CN', 'dev-client']], 'printable'), pass: ['docs', 'subject', 'cn'] },
  { label: 'a CN ending in "/CN=dev-client" (the old docs RegExp /\\/CN=dev-client$/ let it in)', subject: DEV('mallory/CN=dev-client'), pass: [] },
  {
    label: 'an O holding "/OU=clients/CN=dev-client": its one-line DN equals dev-client\'s',
    subject: pairs(['C', 'DE'], ['O', 'mtls-edge dev/OU=clients/CN=dev-client']),
    pass: [],
    cnReason: 'the client certificate subject has 0 common names (commonNames needs exactly one)',
  },
  {
    label: 'two CNs, dev-client first (OpenSSL reads the first, Go the last)',
    subject: pairs(['C', 'DE'], ['O', 'mtls-edge dev'], ['CN', 'dev-client'], ['CN', 'mallory']),
    pass: [],
    cnReason: 'the client certificate subject has 2 common names (commonNames needs exactly one)',
  },
  {
    label: 'two CNs, dev-client last',
    subject: pairs(['C', 'DE'], ['O', 'mtls-edge dev'], ['OU', 'clients'], ['CN', 'mallory'], ['CN', 'dev-client']),
    pass: [],
    cnReason: 'the client certificate subject has 2 common names (commonNames needs exactly one)',
  },
  { label: 'a CN equal to dev-client\'s one-line DN', subject: pairs(['C', 'DE'], ['O', 'other'], ['CN', DEV_CLIENT_ONELINE]), pass: [] },
  { label: 'a CN equal to dev-client\'s RFC 4514 DN', subject: pairs(['C', 'DE'], ['O', 'other'], ['CN', DEV_CLIENT]), pass: [] },
  { label: 'an O holding ",OU=clients" (RFC 4514 text unescaped would match)', subject: pairs(['C', 'DE'], ['O', 'mtls-edge dev,OU=clients'], ['CN', 'dev-client']), pass: ['cn'] },
  {
    label: 'dev-client\'s attributes in one multi-valued RDN',
    subject: [[{ oid: OID.C, stringType: 'utf8', value: 'DE' }, { oid: OID.O, stringType: 'utf8', value: 'mtls-edge dev' }, { oid: OID.OU, stringType: 'utf8', value: 'clients' }, { oid: OID.CN, stringType: 'utf8', value: 'dev-client' }]],
    pass: ['cn'],
  },
  // A decoder drops a leading U+FEFF by default; it is part of the name (review2 bom-dn-bypass).
  { label: 'a CN "\\uFEFFdev-client" in UTF8String', subject: DEV('\uFEFFdev-client'), pass: [] },
  { label: 'a CN "\\uFEFFdev-client" in BMPString', subject: simpleName([['C', 'DE'], ['O', 'mtls-edge dev'], ['OU', 'clients'], ['CN', '\uFEFFdev-client']], 'bmp'), pass: [] },
  { label: 'a DNS SAN holding the allowed URI text', subject: DEV('mallory'), sans: [{ dns: 'spiffe://mtls-edge/dev-client' }, { email: 'spiffe://mtls-edge/dev-client' }], pass: [] },
];

describe('app reader: requireClientCert allow-lists against hostile names (real TLS, cf edge)', function () {
  this.timeout(60_000);
  let app: LoopbackServer | undefined;
  let edge: TestEdge | undefined;
  let signer: Signer;
  let key: CertKey;
  let keyPem: Buffer;
  let chainPem: string;

  before(async () => {
    const { pki } = await testPki();
    chainPem = readFileSync(pki.intermediateCa.cert, 'utf8');
    signer = signerOf(chainPem, certKeyFromPem(readFileSync(pki.intermediateCa.key)));
    key = await generateCertKey('ec-p256');
    keyPem = Buffer.from(key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const guards = new Map(Object.entries(GUARDS).map(([name, allow]) => [`/${name}`, requireClientCert({ dialect: 'cf', allow })]));
    app = await listenOnLoopback(
      http.createServer((req, res) => {
        const guard = guards.get(req.url ?? '');
        if (!guard) return void res.writeHead(404).end();
        guard(req, res, () => res.end(`passed ${(req as RequestWithClientCert).clientCert.status}\n`));
      }),
    );
    edge = await startTestEdge({ upstream: `http://127.0.0.1:${app.port}` }, 'dialect: cf\n');
  });
  after(async () => {
    await edge?.close();
    await app?.close();
  });

  function issue(c: CertCase): Buffer {
    const extensions = [{ kind: 'extKeyUsage' as const, purposes: [OID.clientAuth] }, ...(c.sans ? [{ kind: 'subjectAltName' as const, names: c.sans }] : [])];
    const now = Date.now();
    const leaf = buildCertificate({ subject: c.subject, subjectKey: key, signer, notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000), extensions });
    return Buffer.from(leaf.pem + chainPem);
  }

  for (const c of CERTS) {
    it(c.label, async () => {
      const identity = { cert: issue(c), key: keyPem };
      const answers: Record<string, [number, string]> = {};
      const wanted: Record<string, [number, string]> = {};
      for (const name of Object.keys(GUARDS)) {
        const reply = await httpsRequest(edge!.httpsPort, { identity, path: `/${name}` });
        answers[name] = [reply.status, reply.body];
        const refusal =
          name === 'cn' ? (c.cnReason ?? 'the client certificate common name is not allowed')
          : name === 'uri' ? 'no subject alternative name of the client certificate is allowed'
          : name === 'docs' || name === 'subject' ? 'the client certificate subject is not allowed'
          : '';
        wanted[name] = c.pass.includes(name) ? [200, 'passed verified\n'] : [403, `${refusal}\n`];
      }
      expect(answers).to.deep.equal(wanted);
    });
  }
});

describe('app reader: requireClientCert refuses options it cannot apply safely', () => {
  const CASES: readonly (readonly [label: string, options: unknown, message: RegExp])[] = [
    ["dialect 'auto': a client picks the dialect by the headers it sends (auto-footgun)", { dialect: 'auto' }, /dialect 'auto' cannot decide access: .*name the dialect your edge writes \(cf, envoy, rfc9440, nginx, traefik\)/],
    ['an unknown dialect', { dialect: 'haproxy' }, /unknown dialect \(expected one of cf, envoy, rfc9440, nginx, traefik\)/],
    ["envoyElement 'last': a client controls what follows the edge's element", { dialect: 'envoy', envoyElement: 'last' }, /unknown envoyElement \(expected only or first\)/],
    ['the old docs example: a RegExp subject', { allow: { subjects: [/\/CN=dev-client$/] } }, /allow\.subjects\[0\] must be a string \(patterns are not accepted: list exact values\)/],
    ['a one-line DN, ambiguous', { allow: { subjects: [DEV_CLIENT_ONELINE] } }, /allow\.subjects\[0\]: a one-line DN .* is ambiguous and not accepted/],
    ['a bare CN where a DN belongs', { allow: { subjects: ['dev-client'] } }, /allow\.subjects\[0\]: no '=' after position 0/],
    ['a misspelt allow-list key would allow everything', { allow: { subject: [DEV_CLIENT] } }, /unknown allow-list key 'subject' \(known: commonNames, subjects, issuers, sans\)/],
    ['a misspelt option would drop the allow-list', { allowList: { commonNames: ['dev-client'] } }, /unknown option 'allowList'/],
    ['an empty list refuses everything', { allow: { commonNames: [] } }, /allow\.commonNames is empty/],
    ['a SAN without its kind', { allow: { sans: ['spiffe://mtls-edge/dev-client'] } }, /allow\.sans\[0\] must start with DNS:, URI:, email: or IP:/],
    ['an IP SAN that is no address', { allow: { sans: ['IP:10.0.0.256'] } }, /allow\.sans\[0\]: '10\.0\.0\.256' is not an IPv4 or IPv6 address/],
    ['an unescaped trailing space in a DN', { allow: { issuers: ['CN=x ,C=DE'] } }, /allow\.issuers\[0\]: the value of CN ends with a space/],
    ['an unescaped ; in a DN', { allow: { issuers: ['CN=a;b'] } }, /';' in the value of CN must be escaped/],
    ['an attribute type the parser does not know by name', { allow: { subjects: ['businessCategory=x'] } }, /unknown attribute type 'businessCategory': write it as a dotted OID/],
  ];
  for (const [label, options, message] of CASES) {
    it(label, () => {
      expect(() => requireClientCert(options as RequireClientCertOptions)).to.throw(TypeError, message);
    });
  }

  it('RFC 4514 forms that name the same DN are accepted: spaces after separators, escapes, hex escapes, OIDs, any case', () => {
    for (const dn of [DEV_CLIENT, 'CN=dev-client, OU=clients, O=mtls-edge dev, C=DE', 'cn=dev\\2Dclient,ou=clients,2.5.4.10=mtls-edge dev,c=DE', 'CN=a\\,b\\+c\\ ,O=\\#x,C=DE', 'CN=#0c0161,C=DE']) {
      expect(() => requireClientCert({ allow: { subjects: [dn] } }), dn).not.to.throw();
    }
    expect(() => requireClientCert({ allow: { sans: ['IP:::ffff:10.1.2.3', 'IP:2001:DB8::1', 'DNS:x', 'email:a@b', 'URI:u:'] } })).not.to.throw();
  });
});
