// The trainer view end to end: a real edge (dev PKI, echo upstream) with its admin listener, every
// lesson run from the panel in Debian's chromium at 1024x768 and 1920x1080, each lane checked against
// what the echo upstream really received, keyboard stepping, presenter mode, the export, the CSRF
// guard of the lesson endpoint, and axe-core with no serious violation.
// Writes test-output/trainer-*.png and test-output/trainer-export.html.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import type { Browser, Page } from 'playwright-core';
import { LESSONS } from '../../src/observe/lessons.js';
import type { EchoDescription } from '../../src/echo/echoServer.js';
import { startPageEdge, type PageEdge } from '../support/pageEdge.js';

const VIEWPORTS = [
  { width: 1024, height: 768 },
  { width: 1920, height: 1080 },
] as const;

type Outcome = { kind: 'response'; status: number; body: string } | { kind: 'refused' | 'not-run'; error: string };
interface LessonReply {
  lesson: string;
  outcome: Outcome;
  seqs: number[];
  note: string | null;
  modes?: { mode: string; outcome: Outcome; seqs: number[] }[];
}
const CLIENT_CERT_HEADER = /^x-ssl-client|^x-forwarded-client-cert$/i;

describe('trainer view end to end (lessons, lanes, presenter, export, axe)', function () {
  this.timeout(180_000);
  let browser: Browser | null = null;
  let adminUrl = '';
  let running: PageEdge | null = null;

  before(async function () {
    running = await startPageEdge(this, { accessLogFormat: 'off', stdout: new PassThrough().resume() });
    ({ browser, adminUrl } = running);
  });

  after(async () => {
    await running?.stop();
  });

  async function openPage(viewport: { width: number; height: number }): Promise<{ page: Page; errors: string[] }> {
    const page = await browser!.newPage({ viewport, acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(adminUrl);
    await page.waitForSelector('#conn-state.live');
    return { page, errors };
  }

  /** Runs a lesson by clicking its button; returns what the endpoint answered (read from the network). */
  async function runFromPanel(page: Page, id: string): Promise<LessonReply> {
    const card = page.locator(`article.lesson[data-lesson="${id}"]`);
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/lessons/run')), card.locator('button.run').click()]);
    expect(response.status(), await response.text()).to.equal(200);
    const reply = (await response.json()) as LessonReply;
    await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('data-state') === 'done', `article.lesson[data-lesson="${id}"]`);
    return reply;
  }

  const lanePairs = (page: Page, lane: string): Promise<[string, string][]> =>
    page.$$eval(`#lanes .${lane} ul.hdrs > li.hdr[data-header]`, (items) =>
      items.map((li) => [li.querySelector('.hname')!.textContent ?? '', (li.querySelector('.hval') as HTMLElement).title]),
    );

  for (const viewport of VIEWPORTS) {
    it(`runs every lesson at ${viewport.width}x${viewport.height} and each lane shows what really happened`, async () => {
      const { page, errors } = await openPage(viewport);
      await page.click('#tab-lessons');
      await page.waitForSelector('article.lesson button.run:not([disabled])');
      expect(await page.locator('article.lesson').count()).to.equal(LESSONS.length);
      // Every lesson carries its terminal variant.
      for (const l of LESSONS) expect(await page.locator(`article.lesson[data-lesson="${l.id}"] pre.curl`).innerText()).to.match(/^curl --cacert \S+root-ca\.crt .*https:\/\/localhost:\d+\/lesson\//);

      for (const lesson of LESSONS) {
        const reply = await runFromPanel(page, lesson.id);
        expect(reply.seqs.length, `lesson ${lesson.id} produced an event`).to.be.greaterThan(0);
        await page.waitForSelector(`#lanes[data-seq="${reply.seqs[0]}"]`);
        expect(await page.locator('#lanes-view').isVisible()).to.equal(true);
        const kind = await page.getAttribute('#lanes', 'data-kind');
        if (reply.outcome.kind === 'response') {
          expect(kind).to.equal('request');
          const echo = JSON.parse(reply.outcome.body) as EchoDescription;
          const app = await lanePairs(page, 'lane-app');
          expect(app, `app lane of ${lesson.id} = headers the echo upstream received, names, values and order`).to.deep.equal(echo.headers);
          expect(await page.locator('#lanes .lane-app .note').innerText()).to.match(/^Exactly as the app received them/);
          // Client lane: the client-certificate headers the lesson sent; edge lane: none of them reaches the app unless kept.
          const client = await lanePairs(page, 'lane-client');
          expect(client).to.deep.equal(lesson.headers.filter(([n]) => /^x-ssl-client|^x-forwarded-client-cert$/i.test(n)).map(([n, v]) => [n, v]));
          const edgeText = await page.locator('#lanes .lane-edge').innerText();
          expect(edgeText).to.match(/mode table row: sanitize_set/);
          for (const [name] of client) {
            // What the app got under that name (if anything) is the edge's own value, marked set.
            const actions = await page.$$eval(`#lanes .lane-app li.hdr[data-header="${name.toLowerCase()}"]`, (li) => li.map((e) => e.getAttribute('data-action')));
            expect(actions.every((a) => a === 'set'), `${lesson.id}: forged ${name} must not reach the app under sanitize_set`).to.equal(true);
            expect(actions.length).to.equal(echo.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).length);
            expect(await page.locator(`#lanes .lane-edge li.hdr[data-header="${name.toLowerCase()}"][data-action="removed"]`).count()).to.be.greaterThan(0);
          }
          const appCn = echo.headers.find(([n]) => n.toLowerCase() === 'x-ssl-client-subject-cn');
          if (lesson.identity === null) expect(appCn, `${lesson.id}: no identity without a certificate`).to.equal(undefined);
          if (lesson.identity === 'client') {
            // The whole chain the client sent (leaf, intermediate), then the root it did not send.
            const chain = await page.$$eval('#lanes .lane-client ol.chain > li', (items) => items.map((li) => `${li.className}: ${li.querySelector('b')?.textContent ?? ''}`));
            expect(chain).to.deep.equal(['sent: dev-client', 'sent: mtls-edge Dev Intermediate CA', 'not-sent: CN=mtls-edge Dev Root CA,O=mtls-edge dev,C=DE']);
            expect(Buffer.from(appCn![1], 'base64').toString()).to.equal('dev-client');
            // The DER certificate in XFCC is decoded in the app lane.
            expect(await page.locator('#lanes .lane-app li[data-header="x-forwarded-client-cert"] .hdec').innerText()).to.match(/certificate .*CN=dev-client.*issued by .*CN=mtls-edge Dev Intermediate CA/);
          }
        } else {
          expect(reply.outcome.kind).to.equal('refused');
          expect(kind).to.equal('handshake-rejected');
          const edgeText = await page.locator('#lanes .lane-edge').innerText();
          expect(edgeText).to.match(/Handshake refused: X509_V_ERR_\w+ \(\d+\)/);
          expect(edgeText).to.match(/Fix: \S/);
          expect(await page.locator('#lanes .lane-app').innerText()).to.match(/ended in the TLS handshake/);
        }
        if (lesson.compareModes) {
          // Four real runs through the edge, one per mode; each column shows what the upstream received in that run.
          expect(reply.modes?.map((m) => m.mode)).to.deep.equal(['always_forward_only', 'forward_only', 'sanitize_set', 'forward_only_if_route_service']);
          await page.waitForSelector('#lanes .mode-col[data-seq]');
          expect(await page.locator('#lanes .mode-col').count()).to.equal(4);
          for (const run of reply.modes!) {
            expect(run.outcome.kind, run.mode).to.equal('response');
            const col = `#lanes .mode-col[data-mode="${run.mode}"]`;
            expect(await page.getAttribute(col, 'data-seq')).to.equal(String(run.seqs[0]));
            const upstream = (JSON.parse((run.outcome as { body: string }).body) as EchoDescription).headers.filter(([n]) => CLIENT_CERT_HEADER.test(n));
            const shown = await page.$$eval(`${col} ul.received > li.hdr`, (items) => items.map((li) => [li.querySelector('.hname')!.textContent ?? '', (li.querySelector('.hval') as HTMLElement).title]));
            expect(shown, `${lesson.id}/${run.mode}: column = client-certificate headers the upstream received`).to.deep.equal(upstream);
            const cn = upstream.find(([n]) => n.toLowerCase() === 'x-ssl-client-subject-cn');
            const seesText = await page.locator(`${col} .sees`).innerText();
            if (cn) expect(seesText).to.contain(Buffer.from(cn[1], 'base64').toString());
            else expect(seesText).to.match(/no identity/);
          }
          if (lesson.id === 'route-service-gap') {
            expect(await page.locator('#lanes .mode-col[data-mode="forward_only_if_route_service"] .sees').innerText()).to.match(/admin \(forged/);
            expect(await page.locator('#lanes .mode-col[data-mode="sanitize_set"] .sees').innerText()).to.match(/no identity/);
          }
          if (lesson.id === 'modes') {
            expect(await page.locator('#lanes .mode-col[data-mode="forward_only"] .sees').innerText()).to.match(/admin \(forged/);
            expect(await page.locator('#lanes .mode-col[data-mode="sanitize_set"] .sees').innerText()).to.match(/dev-client \(from the certificate/);
          }
        }
        if (lesson.needsCrl) {
          // The test edge checks no CRLs: the card and the reply say how to start it so that it does.
          expect(reply.note).to.match(/npm start -- --crl \S+root-ca\.crl --crl \S+intermediate-ca\.crl/);
          expect(await page.locator(`article.lesson[data-lesson="${lesson.id}"] .lesson-note`).innerText()).to.equal(reply.note);
        }
        await page.screenshot({ path: `test-output/trainer-${viewport.width}-${lesson.id}.png` });
        await page.click('#tab-lessons');
      }
      // The lanes fit the projector's width: nothing scrolls sideways.
      await page.click('#tab-lanes');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).to.be.at.most(0);
      expect(errors).to.deep.equal([]);
      await page.close();
    });
  }

  it('steps with the keyboard, toggles presenter mode and the theme', async () => {
    const { page } = await openPage({ width: 1024, height: 768 });
    await page.click('#tab-lanes');
    await page.waitForSelector('#lanes[data-seq]');
    // The ring's replay has arrived (the lessons above left more than three requests).
    await page.waitForFunction(() => Number(/of (\d+)/.exec(document.getElementById('lane-pos')!.textContent ?? '')?.[1] ?? 0) >= 3);
    const last = Number(await page.getAttribute('#lanes', 'data-seq'));
    await page.keyboard.press('ArrowLeft');
    const prev = Number(await page.getAttribute('#lanes', 'data-seq'));
    expect(prev).to.be.lessThan(last);
    await page.keyboard.press('ArrowLeft');
    expect(Number(await page.getAttribute('#lanes', 'data-seq'))).to.be.lessThan(prev);
    await page.keyboard.press('ArrowRight');
    expect(Number(await page.getAttribute('#lanes', 'data-seq'))).to.equal(prev);

    await page.keyboard.press('p');
    expect(await page.locator('body.presenter').count()).to.equal(1);
    expect(await page.locator('header').isVisible()).to.equal(false);
    expect(await page.locator('.lanes-bar').isVisible()).to.equal(false);
    expect(await page.locator('#lanes .lanes').isVisible()).to.equal(true);
    await page.screenshot({ path: 'test-output/trainer-presenter-1024.png' });
    await page.keyboard.press('t');
    await page.keyboard.press('t');
    expect(await page.getAttribute('html', 'data-theme')).to.equal('dark');
    await page.screenshot({ path: 'test-output/trainer-presenter-dark-1024.png' });
    await page.keyboard.press('Escape');
    expect(await page.locator('body.presenter').count()).to.equal(0);
    expect(await page.locator('header').isVisible()).to.equal(true);
    await page.keyboard.press('t');
    await page.close();
  });

  it('exports one flow as a self-contained HTML file without script', async () => {
    const { page } = await openPage({ width: 1024, height: 768 });
    await page.click('#tab-lessons');
    await page.waitForSelector('article.lesson button.run:not([disabled])');
    await runFromPanel(page, 'forged-with-cert');
    await page.waitForSelector('#lanes .lane-app li.hdr');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const html = readFileSync((await download.path())!, 'utf8');
    writeFileSync('test-output/trainer-export.html', html);
    expect(html).to.match(/^<!doctype html>/i);
    expect(html).to.not.match(/<script|<link|src=|url\(http/i);
    expect(html).to.contain('X-SSL-Client-Subject-DN');
    // Opened with no server at all, it shows the same lanes.
    const offline = await browser!.newPage({ viewport: { width: 1024, height: 768 } });
    await offline.setContent(html);
    expect(await offline.locator('.lane-app li.hdr[data-action="set"]').count()).to.equal(10);
    await offline.screenshot({ path: 'test-output/trainer-export.png' });
    await offline.close();
    await page.close();
  });

  it('runs lessons only for same-origin POSTs that carry the page token', async () => {
    const url = `${adminUrl}lessons/run`;
    const body = JSON.stringify({ lesson: 'valid' });
    const page = await (await fetch(adminUrl)).text();
    const token = /name="page-token" content="([0-9a-f]+)"/.exec(page)![1]!;
    const headers = { 'Content-Type': 'application/json', 'X-Mtls-Edge-Page-Token': token };
    expect((await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })).status).to.equal(403);
    expect((await fetch(url, { method: 'POST', headers: { ...headers, 'Content-Type': 'text/plain' }, body })).status).to.equal(403);
    expect((await fetch(url, { method: 'POST', headers: { ...headers, Origin: 'http://evil.test' }, body })).status).to.equal(403);
    expect((await fetch(url, { method: 'POST', headers: { ...headers, 'Sec-Fetch-Site': 'cross-site' }, body })).status).to.equal(403);
    expect((await fetch(url, { headers })).status).to.equal(403);
    expect((await fetch(url, { method: 'POST', headers, body: JSON.stringify({ lesson: 'nope' }) })).status).to.equal(404);
    for (const odd of ['null', '[]', '"valid"', '{}']) expect((await fetch(url, { method: 'POST', headers, body: odd })).status, odd).to.equal(400);
    expect((await fetch(url, { method: 'POST', headers, body })).status).to.equal(200);
  });

  it('has no serious accessibility violation (axe-core) in any view, light and dark', async () => {
    const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const { page } = await openPage({ width: 1024, height: 768 });
    // Injected through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(axeSource);
    const problems: string[] = [];
    for (const theme of ['light', 'dark']) {
      await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
      for (const tab of ['flow', 'lanes', 'lessons', 'tls']) {
        await page.click(`#tab-${tab}`);
        if (tab === 'lessons') await page.waitForSelector('article.lesson');
        if (tab === 'lanes') await page.waitForSelector('#lanes .lanes');
        const result = (await page.evaluate(() => (window as unknown as { axe: { run(c: Document, o: object): Promise<unknown> } }).axe.run(document, { resultTypes: ['violations'] }))) as {
          violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
        };
        for (const v of result.violations) {
          if (v.impact === 'serious' || v.impact === 'critical') problems.push(`${theme}/${tab}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
        }
      }
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
    await page.close();
  });
});
