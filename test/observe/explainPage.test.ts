import { expect } from 'chai';
import { CHECKLIST, renderExplanation } from '../../src/observe/explainPage.js';
import { NO_CERTIFICATE, VERIFY_CODES } from '../../src/pki/verifyCodes.js';
import { DEV_CLIENT } from './fixtures.js';

const failures = VERIFY_CODES.filter((r) => r.code !== 0);

describe('observe/explainPage', () => {
  for (const info of failures) {
    const input = {
      verify: { code: info.code, name: info.name, hint: info.hint },
      cert: DEV_CLIENT,
      sni: 'api.acme.test',
      reason: info.text,
      hint: info.hint,
    };
    it(`explains ${info.name} (${info.code}) as a 495 HTML page`, () => {
      const r = renderExplanation(input, 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
      expect(r.status).to.equal(495);
      expect(r.contentType).to.equal('text/html; charset=utf-8');
      expect(r.body).to.contain('<title>495 SSL Certificate Error</title>');
      expect(r.body).to.contain(`${info.name} (${info.code})`);
      expect(r.body).to.contain('CN=dev-client,O=Acme,C=DE');
      expect(r.body).to.contain(info.alert?.name ?? 'none');
      // The checklist marks at least one item for every known failure.
      expect(r.body).to.match(/<li class="applies"/);
    });
    it(`explains ${info.name} (${info.code}) as JSON`, () => {
      const r = renderExplanation(input, 'application/json');
      expect(r.status).to.equal(495);
      const body = JSON.parse(r.body) as { status: number; error: string; verify: { code: number; name: string; alert: string | null }; hint: string; certificate: { subject: string }; checklist: { applies: boolean }[] };
      expect(body.status).to.equal(495);
      expect(body.error).to.equal('ssl_certificate_error');
      expect(body.verify).to.deep.equal({ code: info.code, name: info.name, text: info.text, alert: info.alert?.name ?? null });
      expect(body.hint).to.equal(info.hint);
      expect(body.certificate.subject).to.equal(DEV_CLIENT.subject);
      expect(body.checklist.some((c) => c.applies)).to.equal(true);
    });
  }

  it('answers 496 when no certificate was sent, with the NO_CERTIFICATE hint', () => {
    const input = { verify: null, cert: null, sni: 'api.acme.test', reason: 'no client certificate presented', hint: '' };
    const html = renderExplanation(input, undefined);
    expect(html.status).to.equal(496);
    expect(html.body).to.contain('496 SSL Certificate Required');
    expect(html.body).to.contain(NO_CERTIFICATE.hint.replace(/'/g, '&#39;'));
    expect(html.body).to.contain('certificate_required');
    const json = JSON.parse(renderExplanation(input, 'application/json').body) as { error: string; checklist: { id: string; applies: boolean }[] };
    expect(json.error).to.equal('ssl_certificate_required');
    expect(json.checklist.filter((c) => c.applies).map((c) => c.id)).to.deep.equal(['sent', 'custom-domain']);
  });

  it('gives plain text to a client that asks for it (curl -H "Accept: text/plain")', () => {
    const r = renderExplanation({ verify: { code: 18, name: 'X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT', hint: '' }, cert: DEV_CLIENT, sni: null, reason: 'self-signed certificate', hint: '' }, 'text/plain');
    expect(r.contentType).to.equal('text/plain; charset=utf-8');
    expect(r.body).to.match(/^495 SSL Certificate Error\n/);
    expect(r.body).to.contain('How to fix it: Self-signed certificates are refused');
  });

  it('prefers HTML for */* and respects q-values', () => {
    const input = { verify: null, cert: null, sni: null, reason: 'r', hint: 'h' };
    expect(renderExplanation(input, '*/*').contentType).to.match(/^text\/html/);
    expect(renderExplanation(input, 'text/html;q=0.5, application/json').contentType).to.match(/^application\/json/);
    expect(renderExplanation(input, 'image/png').contentType).to.match(/^text\/html/);
  });

  it('escapes everything that comes from the certificate', () => {
    const evil = { ...DEV_CLIENT, subject: 'CN=<script>alert(1)</script>,O="Acme" & Co', issuer: "CN=it's\x07me" };
    const r = renderExplanation({ verify: { code: 20, name: 'X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY', hint: '' }, cert: evil, sni: '<b>x</b>', reason: '<img src=x>', hint: '' }, 'text/html');
    expect(r.body).to.not.contain('<script>alert');
    expect(r.body).to.not.contain('<img');
    expect(r.body).to.not.contain('<b>x');
    expect(r.body).to.contain('CN=&lt;script&gt;alert(1)&lt;/script&gt;,O=&quot;Acme&quot; &amp; Co');
    expect(r.body).to.contain('CN=it&#39;s\\x07me');
  });

  it('has a checklist entry for every failure code in the table', () => {
    for (const info of failures) {
      expect(CHECKLIST.some((c) => c.codes.includes(info.code)), info.name).to.equal(true);
    }
  });
});
