// Property tests through a real edge: whatever wire format a client uses to smuggle one of the ten
// headers (case, duplicates, whitespace around values, comma-joined lists, obs-fold continuation
// lines, whitespace before the colon), no spoofed value survives where the spec removes the ten.
// The request is either refused with 400 or reaches the upstream with only the edge's own values.
import { expect } from 'chai';
import fc from 'fast-check';
import { clientIdentity, startTestEdge, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, tlsConnect, type RawResponse } from '../support/rawHttp.js';
import { H10_ORDER, isH10 } from '../edge/h10Expect.js';

const RUNS = 50;

const randomCase = (name: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((flags) => [...name].map((c, i) => (flags[i] ? c.toUpperCase() : c.toLowerCase())).join(''));

const h10Name = fc.constantFrom(...H10_ORDER).chain(randomCase);
const token = fc.stringMatching(/^[A-Za-z0-9+/=]{1,12}$/).map((s) => `SPOOF${s}`);
const ws = fc.constantFrom('', ' ', '  ', '\t', ' \t ');

type Variant = 'plain' | 'ws-around' | 'dup' | 'comma' | 'obs-fold-value' | 'obs-fold-into-benign' | 'space-before-colon' | 'tab-before-colon' | 'empty';
const variant = fc.constantFrom<Variant>('plain', 'ws-around', 'dup', 'comma', 'obs-fold-value', 'obs-fold-into-benign', 'space-before-colon', 'tab-before-colon', 'empty');

/** One spoofing attempt as raw header lines (joined with CRLF, no trailing CRLF). */
const attempt = fc.record({ name: h10Name, other: h10Name, value: token, before: ws, after: ws, variant }).map(({ name, other, value, before, after, variant: v }) => {
  switch (v) {
    case 'plain':
      return `${name}: ${value}`;
    case 'ws-around':
      return `${name}:${before}${value}${after}`;
    case 'dup':
      return `${name}: ${value}\r\n${other}: ${value}-2`;
    case 'comma':
      return `${name}: ${value}, ${value}-2,${value}-3`;
    case 'obs-fold-value':
      return `${name}: ${value}\r\n ${value}-folded`;
    case 'obs-fold-into-benign':
      return `X-Benign: ok\r\n ${name}: ${value}`;
    case 'space-before-colon':
      return `${name} : ${value}`;
    case 'tab-before-colon':
      return `${name}\t: ${value}`;
    case 'empty':
      return `${name}:${before}`;
  }
});

const request = fc.record({
  attempts: fc.array(attempt, { minLength: 1, maxLength: 5 }),
  benign: fc.array(fc.constantFrom('X-Request-Id: abc', 'Accept: */*', 'X-SSL-Client-Cert: lookalike', 'User-Agent: fc'), { maxLength: 3 }),
});

async function send(port: number, identity: ClientIdentity | undefined, lines: string[]): Promise<RawResponse> {
  const socket = await tlsConnect(port, { identity });
  try {
    const reader = new ResponseReader(socket);
    socket.write(Buffer.from(`GET /spoof HTTP/1.1\r\nHost: localhost\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
    return await reader.next(10_000);
  } finally {
    socket.destroy();
  }
}

/**
 * The request was refused (400), or the upstream saw exactly the edge's own H10 values: the ten in
 * set order when a certificate was used, none otherwise; and no H10 header carries a spoofed value.
 */
function checkNoSpoofSurvives(r: RawResponse, certUsed: boolean, sent: string): void {
  if (r.status === 400) {
    expect(r.echo, 'a 400 comes from the edge, not the upstream').to.equal(null);
    return;
  }
  expect(r.status, `unexpected status for:\n${sent}`).to.equal(200);
  const h10 = (r.echo?.headers ?? []).filter(([n]) => isH10(n));
  for (const [n, v] of h10) expect(v, `${n} carries a spoofed value for:\n${sent}`).to.not.include('SPOOF');
  expect(h10.map(([n]) => n), `H10 lines for:\n${sent}`).to.deep.equal(certUsed ? [...H10_ORDER] : []);
}

describe('hostile: spoofed H10 headers in every wire format (fast-check, real edge)', function () {
  this.timeout(120_000);
  let valid: ClientIdentity;
  let sanitize: TestEdge;
  let forwardOnly: TestEdge;
  let routeService: TestEdge;
  before(async () => {
    valid = await clientIdentity('valid');
    sanitize = await startTestEdge();
    forwardOnly = await startTestEdge({ forwardedClientCert: 'forward_only' });
    routeService = await startTestEdge({ forwardedClientCert: 'forward_only_if_route_service' });
  });
  after(async () => {
    await sanitize?.close();
    await forwardOnly?.close();
    await routeService?.close();
  });

  const SCENARIOS: readonly { name: string; edge: () => TestEdge; cert: boolean }[] = [
    { name: 'sanitize_set, with a certificate', edge: () => sanitize, cert: true },
    { name: 'sanitize_set, without a certificate', edge: () => sanitize, cert: false },
    { name: 'forward_only, without a certificate', edge: () => forwardOnly, cert: false },
    { name: 'forward_only_if_route_service, no signature, with a certificate', edge: () => routeService, cert: true },
  ];

  for (const s of SCENARIOS) {
    it(`${s.name}: no spoofed value survives (${RUNS} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(request, async ({ attempts, benign }) => {
          const lines = [...benign, ...attempts];
          const r = await send(s.edge().httpsPort, s.cert ? valid : undefined, lines);
          checkNoSpoofSurvives(r, s.cert, lines.join('\n'));
        }),
        { numRuns: RUNS },
      );
      const ok = await send(s.edge().httpsPort, valid, []);
      expect(ok.status, 'the edge still serves a valid request').to.equal(200);
    });
  }

  // The generator's fixed points, each on its own, so a regression names the variant.
  const FIXED: readonly { name: string; lines: string[] }[] = [
    { name: 'obs-fold continuation of an H10 value', lines: ['X-SSL-Client: SPOOFa', ' SPOOFb'] },
    { name: 'obs-fold hiding an H10 line inside another header', lines: ['X-Benign: ok', ' X-SSL-Client-Verify: SPOOF0'] },
    { name: 'whitespace before the colon', lines: ['X-Forwarded-Client-Cert : SPOOF'] },
    { name: 'comma-joined duplicate values', lines: ['X-SSL-Client-Subject-CN: SPOOFa, SPOOFb'] },
    { name: 'NUL byte inside the value', lines: ['X-SSL-Client: SPOOF\u0000x'] },
    { name: 'bare CR inside the value', lines: ['X-SSL-Client: SPOOF\rX-SSL-Client-Verify: SPOOF'] },
    { name: 'name with a trailing NUL', lines: ['X-SSL-Client\u0000: SPOOF'] },
    { name: 'non-ASCII look-alike name (Cyrillic С, UTF-8 bytes)', lines: ['X-SSL-\u00d0\u00a1lient: SPOOF'] },
  ];
  for (const f of FIXED) {
    it(`fixed case: ${f.name} → 400, or not forwarded as one of the ten`, async () => {
      for (const cert of [true, false]) {
        const r = await send(sanitize.httpsPort, cert ? valid : undefined, f.lines);
        checkNoSpoofSurvives(r, cert, f.lines.join('\n'));
      }
      expect((await send(sanitize.httpsPort, valid, [])).status).to.equal(200);
    });
  }
});
