// End to end: a real edge with its admin listener, real mTLS requests (spoofed headers, a refused
// certificate), the flow page in Debian's chromium, and /metrics counting the same traffic.
// Writes test-output/flow-page-e2e.png.
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import type { Browser, Page } from 'playwright-core';
import type { RunningEdge } from '../../src/edge/edge.js';
import type { Observability } from '../../src/observe/index.js';
import { clientIdentity, httpsRequest } from '../support/edgeHarness.js';
import { startPageEdge, type PageEdge } from '../support/pageEdge.js';


describe('flow page end to end (real edge, real mTLS, chromium)', function () {
  this.timeout(90_000);
  let obs: Observability | null = null;
  let edge: RunningEdge | null = null;
  let browser: Browser | null = null;
  let page: Page;
  const output = new PassThrough();
  const logged: string[] = [];
  output.on('data', (d: Buffer) => logged.push(...d.toString().split('\n').filter(Boolean)));

  let running: PageEdge | null = null;

  before(async function () {
    running = await startPageEdge(this, { accessLogFormat: 'cpi', stdout: output });
    ({ obs, edge, browser } = running);
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(running.adminUrl);
    await page.waitForSelector('#conn-state.live');
  });

  after(async () => {
    await running?.stop();
  });

  it('shows a real request with its spoofed, removed and set headers, and a refused certificate with its reason', async () => {
    const spoofedSubject = Buffer.from('/C=DE/O=Evil/CN=admin').toString('base64');
    const ok = await httpsRequest(edge!.httpsPort, {
      identity: await clientIdentity('valid'),
      headers: [['Host', 'localhost'], ['X-SSL-Client-Subject-DN', spoofedSubject], ['x-ssl-client', '1']],
      path: '/orders',
    });
    expect(ok.status).to.equal(200);
    let refusedError: Error | null = null;
    await httpsRequest(edge!.httpsPort, { identity: await clientIdentity('expired'), path: '/orders' }).catch((e: Error) => (refusedError = e));
    expect(refusedError, 'an expired certificate must not get an HTTP response').to.not.equal(null);

    await page.waitForSelector('#flow tbody tr[data-kind="request"]');
    await page.waitForSelector('#flow tbody tr[data-kind="handshake-rejected"]');
    const rejected = await page.locator('#flow tbody tr[data-kind="handshake-rejected"]').first().innerText();
    expect(rejected).to.match(/CERT_HAS_EXPIRED|expired/i);

    await page.locator('#flow tbody tr[data-kind="request"]').first().click();
    await page.waitForSelector('#detail.open');
    const sentDecoded = await page.locator('#detail .h10-sent tr[data-header="x-ssl-client-subject-dn"] .decoded').first().innerText();
    expect(sentDecoded).to.contain('/C=DE/O=Evil/CN=admin');
    expect(await page.locator('#detail .h10-removed tr[data-header]').count()).to.equal(2);
    expect(await page.locator('#detail .h10-set tr[data-header]').count()).to.equal(10);
    const setSubject = await page.locator('#detail .h10-set tr[data-header="x-ssl-client-subject-dn"] .decoded').first().innerText();
    expect(setSubject).to.contain('CN=dev-client');
    await page.screenshot({ path: 'test-output/flow-page-e2e.png', fullPage: true });
  });

  it('counts the same traffic in /metrics and logs the rejection with its reason and fix', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${obs!.adminPort}/metrics`)).text();
    expect(metrics).to.match(/mtls_edge_requests_total\{[^}]*status="200"[^}]*\} 1/);
    expect(metrics).to.match(/mtls_edge_handshakes_total\{[^}]*outcome="rejected"[^}]*\} 1/);
    const rejection = logged.find((l) => l.includes('handshake-rejected'));
    expect(rejection, logged.join('\n')).to.be.a('string');
    expect(rejection).to.match(/CERT_HAS_EXPIRED/);
    expect(rejection).to.match(/renew/i);
    // The log is JSON, so the access-log line is too: its CPI text is the message.
    const accessLines = logged.filter((l) => l.includes('"event":"access"')).map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(accessLines.some((m) => /127\.0\.0\.1 - dev-client@mtls-edge Dev Intermediate CA \[.*\] "GET \/orders HTTP\/1\.1" 200/.test(m)), logged.join('\n')).to.equal(true);
  });
});
