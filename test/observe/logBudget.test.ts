// The log budget under floods: a table of (time, reason) steps with the expected written/held-back
// decision, the summaries at the end of a window, and the fixed reason set a client cannot grow.
import { expect } from 'chai';
import { CERTIFICATE_REASON, LineBudget, rejectionReason, summaryLine } from '../../src/observe/logBudget.js';
import type { HandshakeRejectedEvent } from '../../src/observe/events.js';

describe('observe: log budget (rate-limited rejection lines)', () => {
  it('writes up to the limit per reason per window, holds back the rest, and summarises each window', () => {
    const budget = new LineBudget(10_000, (r) => (r === 'a' ? 2 : 1));
    const steps: [time: number, reason: string, written: boolean][] = [
      [0, 'a', true],
      [1, 'a', true],
      [2, 'a', false],
      [3, 'b', true],
      [4, 'b', false],
      [5, 'a', false],
      [9_999, 'a', false],
      [10_000, 'a', true], // a new window starts on the first line after the old one ended
      [10_001, 'b', true],
    ];
    const held: ReturnType<LineBudget['endWindow']> = [];
    for (const [time, reason, written] of steps) {
      expect(budget.take(reason, time), `${reason} at ${time}`).to.equal(written);
    }
    held.push(...budget.endWindow(20_000));
    expect(held).to.deep.equal([
      { reason: 'a', count: 3 },
      { reason: 'b', count: 1 },
    ]);
    expect(budget.endWindow(30_000), 'nothing held twice').to.deep.equal([]);
  });

  it('a window ended by the timer starts a fresh budget', () => {
    const budget = new LineBudget(1000, () => 1);
    expect(budget.take('x', 0)).to.equal(true);
    expect(budget.take('x', 10)).to.equal(false);
    expect(budget.windowEndsAt()).to.equal(1000);
    expect(budget.endWindow(1000)).to.deep.equal([{ reason: 'x', count: 1 }]);
    expect(budget.take('x', 1001)).to.equal(true);
  });

  const base: HandshakeRejectedEvent = {
    kind: 'handshake-rejected', time: 0, listener: 'https', clientAddress: '127.0.0.1', sni: null, tlsConfig: '',
    cert: null, verify: null, alert: null, reason: '', hint: '', explained: false,
  };
  const reasons: [what: string, event: Partial<HandshakeRejectedEvent>, reason: string][] = [
    ['handshake timeout', { reason: 'TLS handshake not completed within the handshake timeout (timeouts.request_headers)' }, 'TLS handshake not completed within timeouts.request_headers'],
    ['plain HTTP', { reason: 'plain HTTP sent to the HTTPS port: use https://' }, 'plain HTTP sent to the HTTPS port'],
    ['garbage', { reason: 'not a TLS handshake (WRONG_VERSION_NUMBER)' }, 'not a TLS handshake'],
    ['bad ClientHello', { reason: 'malformed ClientHello' }, 'not a TLS handshake'],
    ['client-chosen SNI stays out of the key', { alert: 'unrecognized_name', sni: 'attacker-1.example', reason: 'no TLS configuration matches SNI "attacker-1.example"' }, 'SNI matches no TLS configuration (strict_sni)'],
    ['other TLS error', { reason: 'TLS handshake failed: ECONNRESET' }, 'TLS handshake failed'],
    ['verify outcome', { verify: { code: 10, name: 'X509_V_ERR_CERT_HAS_EXPIRED', hint: '' }, reason: '10 ...' }, CERTIFICATE_REASON],
    ['no certificate under required', { alert: 'certificate_required', reason: 'no client certificate sent' }, CERTIFICATE_REASON],
  ];
  for (const [what, event, reason] of reasons) {
    it(`reason of a rejection: ${what}`, () => {
      expect(rejectionReason({ ...base, ...event })).to.equal(reason);
    });
  }

  it('summary line', () => {
    expect(summaryLine({ reason: 'not a TLS handshake', count: 1234 })).to.equal('1234 more connections closed: not a TLS handshake in the last 10 s');
  });
});
