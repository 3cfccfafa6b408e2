import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import type { EdgeEvent, LifecycleEvent } from '../../src/observe/events.js';
import { checkExpiry, createClientCertExpirySink, warnExpiringCertificates } from '../../src/observe/expiry.js';
import { DEV_CLIENT, INTERMEDIATE_PEM, ROOT_PEM, requestEvent } from './fixtures.js';

const collect = (): { events: EdgeEvent[]; emit(e: EdgeEvent): void } => {
  const events: EdgeEvent[] = [];
  return { events, emit: (e) => events.push(e) };
};
const DAY = 86_400_000;

describe('observe/expiry', () => {
  const root = new X509Certificate(ROOT_PEM);
  const rootEnd = Date.parse(root.validTo);

  it('flags certificates within N days and expired ones, from PEM bundles or X509Certificate', () => {
    const inputs = [{ label: 'trust list of acme', cert: `${ROOT_PEM}\n${INTERMEDIATE_PEM}` }];
    expect(checkExpiry(inputs, { now: Date.parse(new X509Certificate(INTERMEDIATE_PEM).validTo) - 100 * DAY })).to.deep.equal([]);
    const soon = checkExpiry([{ label: 'root', cert: root }], { now: rootEnd - 12.5 * DAY });
    expect(soon).to.have.length(1);
    expect(soon[0]).to.include({ label: 'root', subject: 'CN=Acme Root CA, O=Acme, C=DE', daysLeft: 12, expired: false });
    const late = checkExpiry(inputs, { now: rootEnd + 2 * DAY, days: 7 });
    expect(late.map((f) => f.expired)).to.deep.equal([true, true]);
    expect(() => checkExpiry([{ label: 'broken.pem', cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }])).to.throw(/broken\.pem/);
  });

  it('turns findings into warn lifecycle events', () => {
    const sink = collect();
    warnExpiringCertificates(sink, [{ label: 'server.pem', cert: ROOT_PEM }], { now: rootEnd - 3 * DAY });
    const e = sink.events[0] as LifecycleEvent;
    expect(e).to.include({ kind: 'lifecycle', level: 'warn' });
    expect(e.message).to.equal('Certificate expires in 3 day(s): CN=Acme Root CA, O=Acme, C=DE (server.pem)');
  });

  it('warns once per client certificate fingerprint seen in requests', async () => {
    const target = collect();
    const validTo = Date.parse(DEV_CLIENT.validTo);
    const sink = createClientCertExpirySink(target, { now: () => validTo - 10 * DAY });
    for (let i = 0; i < 5; i++) sink.emit(requestEvent());
    sink.emit(requestEvent({ cert: { ...DEV_CLIENT, fingerprint256: 'AA:BB', validTo: 'Nov 23 15:37:38 2030 GMT' } }));
    sink.emit(requestEvent({ cert: null }));
    await Promise.resolve();
    expect(target.events).to.have.length(1);
    expect((target.events[0] as LifecycleEvent).message).to.match(/^Certificate expires in 10 day\(s\): CN=dev-client,O=Acme,C=DE \(client certificate from 192\.0\.2\.10\)$/);
  });
});
