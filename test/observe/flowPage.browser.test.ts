// The live flow page in a real browser (Debian chromium through playwright-core): events emitted on
// the bus must appear, decode and filter correctly, and nothing from a certificate or a header may
// turn into markup. Writes test-output/flow-page.png for people to look at.
import { expect } from 'chai';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { EventBus } from '../../src/observe/events.js';
import { createLogger } from '../../src/observe/logger.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { startAdminServer, type AdminServer } from '../../src/observe/adminServer.js';
import { NO_CERTIFICATE } from '../../src/pki/verifyCodes.js';
import { B64, Collect, DEV_CLIENT, SET_FOR_DEV_CLIENT, SPOOFED, rejectedEvent, requestEvent, spoofedNoCertRequest, statusFixture } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Bytes a hostile client might send: a control byte, markup and an invalid UTF-8 byte.
const HOSTILE_BYTES = Buffer.concat([Buffer.from('/CN=a'), Buffer.from([0x07]), Buffer.from('<img src=x onerror=alert(1)>'), Buffer.from([0xff])]);

describe('observe/flowPage in chromium', function () {
  this.timeout(60_000);
  let admin: AdminServer | null = null;
  let browser: Browser | null = null;
  let page: Page;
  const bus = new EventBus();
  const pageErrors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`      skipped: ${CHROMIUM} is absent (apt-get install chromium)`);
      this.skip();
    }
    mkdirSync('test-output', { recursive: true });
    admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      bus,
      status: () => statusFixture(),
      logger: createLogger({ format: 'json', stream: new Collect() }),
      metrics: createMetrics({ defaultMetrics: false }),
    });
    // Emitted before the page opens: must arrive through the ring-buffer replay.
    bus.emit({ kind: 'lifecycle', time: Date.now(), level: 'info', message: 'edge started: https on 127.0.0.1:8443, http on 127.0.0.1:8080' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${admin.port}/`);
    await page.waitForSelector('#conn-state.live');
    await page.waitForSelector('#flow tbody tr[data-kind="lifecycle"]');
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await admin?.close();
  });

  const rows = (sel = '#flow tbody tr[data-seq]'): Promise<number> => page.locator(sel).count();

  it('shows requests and rejected handshakes as they happen', async () => {
    const now = Date.now();
    bus.emit(requestEvent({ time: now, h10: { sent: SPOOFED, removed: SPOOFED, set: SET_FOR_DEV_CLIENT } }));
    bus.emit(requestEvent({ time: now + 5, method: 'POST', mappedUser: 'SALES_SENDER', durationMs: 18.2 }));
    bus.emit(
      spoofedNoCertRequest({
        time: now + 9,
        host: 'partner.acme.test',
        sni: 'partner.acme.test',
        route: 'partner.acme.test/',
        upstream: '127.0.0.1:8082',
        h10: {
          sent: [...SPOOFED, ['X-SSL-Client-Issuer-DN', HOSTILE_BYTES.toString('base64')]],
          removed: [...SPOOFED, ['X-SSL-Client-Issuer-DN', HOSTILE_BYTES.toString('base64')]],
          set: [],
        },
      }),
    );
    bus.emit(rejectedEvent({ time: now + 12, sni: 'partner.acme.test', tlsConfig: 'partner' }));
    bus.emit(rejectedEvent({ time: now + 15, sni: 'partner.acme.test', tlsConfig: 'partner', cert: null, verify: null, alert: 'certificate_required', reason: 'no client certificate sent, but partner.acme.test requires one', hint: NO_CERTIFICATE.hint }));
    await page.waitForFunction(() => document.querySelectorAll('#flow tbody tr[data-seq]').length === 6);

    const rejected = page.locator('#flow tbody tr[data-kind="handshake-rejected"]');
    expect(await rejected.count()).to.equal(2);
    const expired = await rejected.nth(1).innerText(); // newest first: the expired one is older
    expect(expired).to.contain('CERT_HAS_EXPIRED (10)');
    expect(expired).to.contain('certificate has expired');
    expect(expired).to.contain('dev-client@Acme Issuing CA 1');
    expect(await rejected.nth(0).innerText()).to.contain('NO_CERTIFICATE');

    const reqs = page.locator('#flow tbody tr[data-kind="request"]');
    const texts = await reqs.allInnerTexts();
    expect(texts[2]).to.contain('dev-client@Acme Issuing CA 1');
    expect(texts[2]).to.match(/3 removed[\s\S]*10 set/);
    expect(texts[1]).to.contain('SALES_SENDER');
    expect(texts[0]).to.contain('no certificate');
    expect(await page.locator('#stat-removed').innerText()).to.equal('2');
  });

  it('opens a detail view with the H10 headers sent, removed and set, base64 decoded', async () => {
    await page.locator('#flow tbody tr[data-kind="request"]').nth(2).click();
    await page.waitForSelector('#detail.open');
    const decoded = (table: string, header: string): Promise<string> =>
      page.locator(`#detail .${table} tr[data-header="${header}"] .decoded`).innerText();
    expect(await decoded('h10-sent', 'x-ssl-client-subject-dn')).to.equal('/C=DE/O=Evil/CN=admin');
    expect(await decoded('h10-sent', 'x-ssl-client-subject-cn')).to.equal('admin');
    expect(await page.locator('#detail .h10-sent tr[data-header="x-ssl-client-subject-dn"] .name').innerText()).to.contain('removed');
    expect(await page.locator('#detail .h10-removed tr[data-header]').count()).to.equal(3);
    expect(await page.locator('#detail .h10-set tr[data-header]').count()).to.equal(10);
    expect(await decoded('h10-set', 'x-ssl-client-subject-dn')).to.equal('/C=DE/O=Acme/CN=dev-client');
    expect(await decoded('h10-set', 'x-ssl-client-subject-cn')).to.equal('dev-client');
    expect(await decoded('h10-set', 'x-ssl-client-issuer-dn')).to.equal('/C=DE/O=Acme/CN=Acme Issuing CA 1');
    expect(await decoded('h10-set', 'x-ssl-client-root-ca-dn')).to.equal('/C=DE/O=Acme/CN=Acme Root CA');
    expect(await decoded('h10-set', 'x-ssl-client-notafter')).to.equal('2027-11-23 15:37:38 UTC');
    expect(await decoded('h10-set', 'x-ssl-client-verify')).to.equal('X509_V_OK');
    expect(await decoded('h10-set', 'x-forwarded-client-cert')).to.equal(`DER certificate, ${Buffer.from(SET_FOR_DEV_CLIENT[0]![1], 'base64').length} bytes`);
    expect(await page.locator('#detail .h10-set tr[data-header="x-ssl-client-subject-dn"] .raw').first().innerText()).to.equal(B64.subjectDN);
    const detail = await page.locator('#detail').innerText();
    expect(detail).to.contain(DEV_CLIENT.fingerprint256);
    expect(detail).to.contain('GET api.acme.test/http/Sales_Order');
  });

  it('shows hostile bytes as escapes, never as markup', async () => {
    await page.keyboard.press('Escape');
    await page.locator('#flow tbody tr[data-kind="request"]').nth(0).click();
    await page.waitForSelector('#detail.open');
    const cell = page.locator('#detail .h10-sent tr[data-header="x-ssl-client-issuer-dn"] .decoded');
    const text = await cell.innerText();
    expect(text).to.equal('/CN=a\\x07<img src=x onerror=alert(1)>\\xFF');
    expect(await page.locator('#detail img').count()).to.equal(0);
    expect(await cell.locator('.esc').count()).to.equal(2);
  });

  it('opens the detail of a rejected handshake with reason and hint', async () => {
    await page.keyboard.press('Escape');
    await page.locator('#flow tbody tr[data-kind="handshake-rejected"]').nth(1).click();
    await page.waitForSelector('#detail.open');
    const body = await page.locator('#detail-body').innerText();
    expect(body).to.contain('TLS handshake rejected for partner.acme.test');
    expect(body).to.contain('X509_V_ERR_CERT_HAS_EXPIRED (10)');
    expect(body).to.contain('renew it with the CA');
    expect(body).to.contain('certificate_expired');
    await page.keyboard.press('Escape');
  });

  it('filters by host and by outcome', async () => {
    await page.fill('#filter-host', 'partner');
    expect(await rows()).to.equal(3);
    await page.selectOption('#filter-outcome', 'rejected');
    expect(await rows()).to.equal(2);
    await page.fill('#filter-host', '');
    await page.selectOption('#filter-outcome', 'removed');
    expect(await rows()).to.equal(2);
    await page.selectOption('#filter-outcome', 'cert');
    expect(await rows()).to.equal(2);
    await page.selectOption('#filter-outcome', 'all');
    expect(await rows()).to.equal(6);
  });

  it('shows TLS configurations with trust lists and expiry', async () => {
    await page.click('#tab-tls');
    await page.waitForSelector('#tls-view .card[data-tls-config="partner"]');
    const acme = await page.locator('#tls-view .card[data-tls-config="acme"]').innerText();
    expect(acme).to.contain('CN=Acme Root CA,O=Acme,C=DE');
    expect(acme).to.contain('*.acme.test');
    expect(acme).to.match(/1[12] days/);
    expect(await page.locator('#tls-view .card[data-tls-config="partner"]').innerText()).to.contain('expired');
    await page.screenshot({ path: 'test-output/flow-page-tls.png' });
    await page.click('#tab-flow');
  });

  it('renders a screenshot with a detail view open, with no script errors', async () => {
    await page.locator('#flow tbody tr[data-kind="request"]').nth(2).click();
    await page.waitForSelector('#detail.open');
    await page.waitForTimeout(300); // the drawer's slide-in transition
    await page.screenshot({ path: 'test-output/flow-page.png' });
    expect(existsSync('test-output/flow-page.png')).to.equal(true);
    expect(pageErrors, pageErrors.join('\n')).to.deep.equal([]);
  });
});
