// How far the edge reads ahead of a connection's pipelined requests (src/edge/pipelinedResponses.ts).
// HAProxy parses one request at a time from its buffer and leaves the rest in the kernel; Node's parser
// turned everything a client sent into request objects, so one connection pipelining 20,000 GETs
// behind a slow answer held 20,000 requests in the edge at once. Now reading stops while more than
// PIPELINED_READ_AHEAD wait: what Node had already read (one read) is the most one connection queues.
import { expect } from 'chai';
import http from 'node:http';
import type net from 'node:net';
import { PIPELINED_BUDGET } from '../../src/edge/pipelinedResponses.js';
import type { ConnectionRefusedEvent } from '../../src/observe/events.js';
import { clientIdentity, httpRequest, startTestEdge, type TestEdge } from '../support/edgeHarness.js';
import { listenOnLoopback } from '../support/loopbackServer.js';
import { tlsConnect } from '../support/rawHttp.js';
import { connectPlain, stopStarted, waitFor } from '../support/waits.js';

/** Requests of 37 to 45 bytes: 20,000 are about 860 KB, far more than one read of a TCP or TLS socket. */
const COUNT = 20_000;
const request = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
/**
 * What one connection may queue: what Node read before reading stopped (one 64 KB read of TCP, or TLS
 * records of 16 KB) of these ≥ 37-byte requests is at most 1,772, with the queue allowed and a second
 * read's margin; measured 1,666 (plain) and 1,256 (mTLS). Before: all 20,000.
 */
const MOST_QUEUED = 4_000;

describe('hostile: the edge reads ahead of pipelined requests by a bounded amount (HAProxy reads one buffer)', function () {
  this.timeout(60_000);
  let t: TestEdge | null = null;
  let up: http.Server | null = null;
  const clients: net.Socket[] = [];
  afterEach(async () => {
    await stopStarted(t, up, clients);
    t = null;
    up = null;
  });

  /** An app that answers /hold after `holdMs` and everything else after `eachMs`. */
  async function start(holdMs: number, eachMs: number, extraYaml = ''): Promise<TestEdge> {
    up = http.createServer((req, res) => {
      req.resume();
      const ms = req.url === '/hold' ? holdMs : eachMs;
      if (ms === 0) res.end(`answer ${req.url};`);
      else setTimeout(() => res.end(`answer ${req.url};`), ms).unref();
    });
    const { port } = await listenOnLoopback(up);
    t = await startTestEdge({}, `routes:\n  - upstream: http://127.0.0.1:${port}\n${extraYaml}`);
    return t;
  }

  const connections: { name: string; connect: (e: TestEdge) => Promise<net.Socket> }[] = [
    { name: 'plain HTTP', connect: (e) => connectPlain(e.httpPort) },
    { name: 'mTLS', connect: async (e) => tlsConnect(e.httpsPort, { identity: await clientIdentity('valid') }) },
  ];
  for (const c of connections) {
    it(`${c.name}: ${COUNT} pipelined GETs behind a 1.5 s answer → at most one read's worth in the edge, all answered in order`, async () => {
      const e = await start(1500, 0);
      const s = await c.connect(e);
      clients.push(s);
      s.on('error', () => undefined);
      const answers: string[] = [];
      let tail = '';
      s.on('data', (d: Buffer) => {
        const text = tail + d.toString('latin1');
        const cut = text.lastIndexOf('answer ');
        for (const m of text.slice(0, cut).matchAll(/answer (\/\w+);/g)) answers.push(m[1]!);
        tail = text.slice(cut);
      });
      s.end(request('/hold') + Array.from({ length: COUNT - 1 }, (_, i) => request(`/p${i + 1}`)).join(''));
      // While /hold is answered, everything behind it waits: the edge holds what it has read only.
      await new Promise((r) => setTimeout(r, 1000));
      const queued = e.edge.inFlight();
      expect(queued, `requests in the edge while /hold waits (before: all ${COUNT})`).to.be.within(2, MOST_QUEUED);
      expect(await waitFor(() => s.readableEnded, 45_000), `the edge closed after the last answer (${answers.length} answers)`).to.equal(true);
      for (const m of tail.matchAll(/answer (\/\w+);/g)) answers.push(m[1]!);
      expect(answers.length).to.equal(COUNT);
      expect(answers[0]).to.equal('/hold');
      expect(answers.every((a, i) => i === 0 || a === `/p${i}`), 'answers in request order').to.equal(true);
      expect(await waitFor(() => e.edge.inFlight() === 0, 3_000)).to.equal(true);
    });
  }

  it(`8 connections each pipelining 3,000 requests behind an answer the app holds → at most ${PIPELINED_BUDGET} wait in the edge (plus one read), the connections past it are closed and reported, the edge serves on`, async () => {
    // /hold is answered after 2.5 s: the clients reset before, which the edge notices when it writes that
    // answer (it is not reading them, edge-behaviour §10.9); then nothing stays in flight.
    const e = await start(2_500, 0);
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 8; i++) {
      const s = await connectPlain(e.httpPort);
      clients.push(s);
      sockets.push(s);
      s.on('error', () => undefined);
      s.write(request('/hold') + request(`/c${i}`).repeat(2_999));
    }
    // Without the budget the edge held one read of each: about 8 × 1,700 requests.
    let peak = 0;
    for (let i = 0; i < 50; i++) {
      peak = Math.max(peak, e.edge.inFlight());
      await new Promise((r) => setTimeout(r, 20));
    }
    const refused = e.events.filter((ev): ev is ConnectionRefusedEvent => ev.kind === 'connection-refused' && ev.cap === 'pipelined');
    expect(refused.length, 'connections closed over the budget').to.be.at.least(1);
    expect(refused[0]!.limit).to.equal(PIPELINED_BUDGET);
    expect(peak, 'requests in the edge').to.be.within(PIPELINED_BUDGET / 2, PIPELINED_BUDGET + 3_000);
    expect(sockets.filter((s) => s.destroyed || s.readableEnded).length, 'closed by the edge').to.be.at.least(1);
    expect((await httpRequest(e.httpPort, { path: '/fresh' })).status).to.equal(200);
    for (const s of sockets) s.destroy();
    expect(await waitFor(() => e.edge.inFlight() === 0, 5_000), `in flight: ${e.edge.inFlight()}`).to.equal(true);
  });

  it('a request head split across the point where reading stopped is not timed out by timeouts.request_headers while the edge holds it back', async () => {
    // 100 requests answered 30 ms apart take 3 s, three times timeouts.request_headers (1 s). The head
    // of the 101st is cut in two; its second half arrives while the edge is not reading.
    const e = await start(30, 30, 'timeouts: { request_headers: 1 }\n');
    const s = await connectPlain(e.httpPort);
    clients.push(s);
    s.on('error', () => undefined);
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const last = request('/last');
    s.write(Array.from({ length: 100 }, (_, i) => request(`/q${i}`)).join('') + last.slice(0, 10));
    await new Promise((r) => setTimeout(r, 300));
    s.end(last.slice(10));
    expect(await waitFor(() => s.readableEnded, 15_000), 'the edge closed after the last answer').to.equal(true);
    expect(text).to.not.include(' 408 ');
    expect([...text.matchAll(/answer (\/\w+);/g)].length).to.equal(101);
    expect(text.trimEnd().endsWith('answer /last;')).to.equal(true);
  });
});
