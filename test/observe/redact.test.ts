import { expect } from 'chai';
import { createLogger } from '../../src/observe/logger.js';
import { createLogSink } from '../../src/observe/logSink.js';
import { renderExplanation } from '../../src/observe/explainPage.js';
import { isSensitiveName, redactValue, scrubText } from '../../src/observe/redact.js';
import { Collect, DEV_CLIENT, FAKE_KEY_PEM, KEY_BODY_MARKER, T0 } from './fixtures.js';

describe('observe/redact: no key or password reaches any output', () => {
  it('scrubs PEM private-key blocks, also JSON-escaped and unterminated ones', () => {
    expect(scrubText(`before ${FAKE_KEY_PEM} after`)).to.equal('before [redacted PRIVATE KEY] after');
    expect(scrubText(JSON.stringify({ k: FAKE_KEY_PEM }))).to.not.contain(KEY_BODY_MARKER);
    const rsa = FAKE_KEY_PEM.replace(/PRIVATE KEY/g, 'RSA PRIVATE KEY');
    expect(scrubText(rsa)).to.equal('[redacted RSA PRIVATE KEY]');
    expect(scrubText(FAKE_KEY_PEM.slice(0, 80))).to.not.contain('MIGHAgEAMBMG');
    // Certificates stay readable: they are public and users need them.
    expect(scrubText('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----')).to.contain('MIIB');
  });

  it('scrubs URL passwords', () => {
    expect(scrubText('proxy https://alice:s3cret@proxy.acme.test:3128 failed')).to.equal('proxy https://alice:[redacted]@proxy.acme.test:3128 failed');
  });

  it('redacts fields named like passwords and key material, keeps key paths', () => {
    for (const n of ['password', 'passphrase', 'keyPassphrase', 'pfxPassword', 'key', 'privateKey', 'private_key', 'keyPem', 'secret', 'clientSecret', 'pfx', 'authorization']) {
      expect(isSensitiveName(n), n).to.equal(true);
    }
    for (const n of ['keyFile', 'keyPath', 'subject', 'issuer', 'hint', 'trustFile', 'keyUsage']) {
      expect(isSensitiveName(n), n).to.equal(false);
    }
    const out = redactValue({ keyFile: '/etc/edge/server.key', key: FAKE_KEY_PEM, nested: { passphrase: 'hunter2', list: [{ password: 'pw' }] }, der: Buffer.from('secret') });
    expect(JSON.stringify(out)).to.equal('{"keyFile":"/etc/edge/server.key","key":"[redacted]","nested":{"passphrase":"[redacted]","list":[{"password":"[redacted]"}]},"der":"[6 bytes]"}');
  });

  it('keeps keys and passwords out of log lines, in both formats, via fields, messages and errors', async () => {
    for (const format of ['json', 'pretty'] as const) {
      const out = new Collect();
      const log = createLogger({ format, stream: out });
      const sink = createLogSink(log);
      log.error(`could not load ${FAKE_KEY_PEM}`);
      log.info('loaded', { config: { tls: { cert: 'server.pem', key: FAKE_KEY_PEM, passphrase: 'hunter2' } } });
      log.warn('harmless name, secret value', { note: FAKE_KEY_PEM });
      const err = new Error(`bad decrypt for ${FAKE_KEY_PEM}`);
      log.error('reload failed', { err });
      sink.emit({ kind: 'lifecycle', time: T0, level: 'warn', message: 'pfx loaded', fields: { pfxPassword: 'hunter2', path: 'client.p12' } });
      await log.close();
      expect(out.lines).to.have.length(5);
      expect(out.text, format).to.not.contain(KEY_BODY_MARKER);
      expect(out.text, format).to.not.contain('hunter2');
      expect(out.text, format).to.contain('client.p12');
    }
  });

  it('keeps keys out of the explain page', () => {
    for (const accept of ['text/html', 'application/json', 'text/plain']) {
      const r = renderExplanation({ verify: null, cert: DEV_CLIENT, sni: null, reason: `failed: ${FAKE_KEY_PEM}`, hint: FAKE_KEY_PEM }, accept);
      expect(r.body, accept).to.not.contain(KEY_BODY_MARKER);
    }
  });
});
