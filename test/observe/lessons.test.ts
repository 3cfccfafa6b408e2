// The lessons' plumbing without a browser: where they run, the curl command beside each, the guard
// of the POST that runs them, and the forwarded header list on the page's event stream.
import { expect } from 'chai';
import { curlCommand, lessonById, lessonNote, lessonTarget, LESSONS } from '../../src/observe/lessons.js';
import { samePagePostProblem } from '../../src/observe/adminAccess.js';
import { eventToJson } from '../../src/observe/eventStream.js';
import { requestEvent, statusFixture } from './fixtures.js';
import { testPki } from '../support/edgeHarness.js';

describe('observe/lessons', () => {
  it('run only with the dev PKI the edge names, and say so otherwise', async () => {
    const { dir } = await testPki();
    expect(lessonTarget(statusFixture(), null)).to.match(/dev PKI/);
    expect(lessonTarget(statusFixture(), '/nonexistent/certs')).to.match(/incomplete: run `mtls-edge certs init --with-failures`/);
    expect(lessonTarget(statusFixture(), dir)).to.deep.equal({ port: 8443, pkiDir: dir });
  });

  it('say how to start the edge when a lesson needs CRLs it does not check', () => {
    const target = { port: 8443, pkiDir: '/srv/app/certs' };
    const tlsConfig = { name: 'dev', hostnames: [], clientAuth: 'optional' as const, trustList: [] };
    const revoked = lessonById('revoked')!;
    expect(lessonNote(revoked, statusFixture({ tlsConfigs: [{ ...tlsConfig, crl: false }] }), target, '/srv/app')).to.equal(
      'This edge runs without CRLs, so it accepts the revoked certificate. To see CERT_REVOKED (23), restart it with: npm start -- --crl certs/crl/root-ca.crl --crl certs/crl/intermediate-ca.crl',
    );
    expect(lessonNote(revoked, statusFixture({ tlsConfigs: [{ ...tlsConfig, crl: true }] }), target, '/srv/app')).to.equal(null);
    expect(lessonNote(lessonById('valid')!, statusFixture({ tlsConfigs: [{ ...tlsConfig, crl: false }] }), target, '/srv/app')).to.equal(null);
  });

  it('name the curl command that sends the same request, quoted for a shell', () => {
    const target = { port: 8443, pkiDir: '/srv/app/certs' };
    expect(curlCommand(lessonById('expired')!, target, '/srv/app')).to.equal(
      'curl --cacert certs/ca/root-ca.crt --cert certs/failures/expired-chain.crt --key certs/failures/expired.key https://localhost:8443/lesson/expired',
    );
    const forged = curlCommand(lessonById('forged-no-cert')!, target, '/srv/app');
    expect(forged).to.not.contain('--cert ');
    expect(forged).to.contain("-H 'X-SSL-Client-Subject-CN: YWRtaW4='");
    expect(new Set(LESSONS.map((l) => l.id)).size).to.equal(LESSONS.length);
  });

  it('run only for a same-origin JSON POST carrying the page token', () => {
    const token = 'a'.repeat(48);
    const ok = { method: 'POST', url: '/lessons/run', headers: { host: '127.0.0.1:9901', 'content-type': 'application/json', 'x-mtls-edge-page-token': token, origin: 'http://127.0.0.1:9901', 'sec-fetch-site': 'same-origin' } };
    expect(samePagePostProblem(ok, token)).to.equal(null);
    expect(samePagePostProblem({ ...ok, method: 'GET' }, token)).to.match(/POST/);
    expect(samePagePostProblem({ ...ok, headers: { ...ok.headers, 'x-mtls-edge-page-token': 'b'.repeat(48) } }, token)).to.match(/token/);
    expect(samePagePostProblem({ ...ok, headers: { ...ok.headers, 'content-type': 'application/x-www-form-urlencoded' } }, token)).to.match(/application\/json/);
    expect(samePagePostProblem({ ...ok, headers: { ...ok.headers, origin: 'http://evil.test' } }, token)).to.match(/Origin/);
    expect(samePagePostProblem({ ...ok, headers: { ...ok.headers, 'sec-fetch-site': 'same-site' } }, token)).to.match(/Sec-Fetch-Site/);
  });
});

describe('observe/eventStream: the forwarded header list', () => {
  it('goes to the page as pairs, credentials redacted; null when the edge answered itself', () => {
    const flat = ['Host', 'api.acme.test', 'Authorization', 'Bearer s3cret', 'cookie', 'sid=1', 'X-Api-Key', 'k1', 'X-Auth-Token', 't1', 'X-SSL-Client', '1', 'X-SSL-Client-Session-ID', 'ab'];
    const json = JSON.parse(eventToJson({ seq: 1, event: requestEvent({ forwarded: flat }) })) as { event: { forwarded: [string, string][] } };
    expect(json.event.forwarded).to.deep.equal([['Host', 'api.acme.test'], ['Authorization', '[redacted]'], ['cookie', '[redacted]'], ['X-Api-Key', '[redacted]'], ['X-Auth-Token', '[redacted]'], ['X-SSL-Client', '1'], ['X-SSL-Client-Session-ID', 'ab']]);
    expect(JSON.parse(eventToJson({ seq: 2, event: requestEvent({ forwarded: null }) })).event.forwarded).to.equal(null);
  });
});
