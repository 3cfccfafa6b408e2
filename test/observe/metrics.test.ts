import { expect } from 'chai';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createMetrics, DURATION_BUCKETS } from '../../src/observe/metrics.js';
import { RingBuffer } from '../../src/observe/ringBuffer.js';
import { rejectedEvent, requestEvent, spoofedNoCertRequest } from './fixtures.js';

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('observe/metrics', () => {
  it('counts handshakes by outcome and code, requests by status and route, latency and connections', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.connectionOpened();
    m.connectionOpened();
    m.connectionOpened();
    m.connectionClosed();
    m.handshakeAccepted(0);
    m.handshakeAccepted(0);
    m.handshakeAccepted(null);
    m.handshakeAccepted(10);
    m.emit(rejectedEvent());
    m.emit(rejectedEvent({ verify: null, cert: null, alert: 'certificate_required' }));
    m.emit(requestEvent({ durationMs: 3 }));
    m.emit(requestEvent({ durationMs: 40 }));
    m.emit(spoofedNoCertRequest({ route: 'api.acme.test/', durationMs: 2000 }));
    m.emit({ kind: 'lifecycle', time: 0, level: 'info', message: 'x' });
    m.emit({ kind: 'connection-refused', time: 0, listener: 'https', clientAddress: '127.0.0.1', cap: 'total', limit: 5 });
    m.emit({ kind: 'connection-refused', time: 0, listener: 'https', clientAddress: '127.0.0.1', cap: 'total', limit: 5 });

    const { body, contentType } = await m.render();
    expect(contentType).to.match(/^text\/plain/);
    expect(sample(body, 'mtls_edge_handshakes_total', 'outcome="verified",code="0"')).to.equal(2);
    expect(sample(body, 'mtls_edge_handshakes_total', 'outcome="no_certificate",code="none"')).to.equal(1);
    expect(sample(body, 'mtls_edge_handshakes_total', 'outcome="ignored",code="10"')).to.equal(1);
    expect(sample(body, 'mtls_edge_handshakes_total', 'outcome="rejected",code="10"')).to.equal(1);
    expect(sample(body, 'mtls_edge_handshakes_total', 'outcome="rejected",code="none"')).to.equal(1);
    expect(sample(body, 'mtls_edge_requests_total', 'status="200",route="api.acme.test/"')).to.equal(2);
    expect(sample(body, 'mtls_edge_requests_total', 'status="403",route="api.acme.test/"')).to.equal(1);
    expect(sample(body, 'mtls_edge_request_duration_seconds_bucket', 'le="0.005",route="api.acme.test/"')).to.equal(1);
    expect(sample(body, 'mtls_edge_request_duration_seconds_bucket', 'le="0.05",route="api.acme.test/"')).to.equal(2);
    expect(sample(body, 'mtls_edge_request_duration_seconds_count', 'route="api.acme.test/"')).to.equal(3);
    expect(sample(body, 'mtls_edge_open_connections', '')).to.equal(2);
    expect(sample(body, 'mtls_edge_h10_removed_requests_total', '')).to.equal(1);
    expect(sample(body, 'mtls_edge_connections_refused_total', 'listener="https",cap="total"')).to.equal(2);
    expect(m.counters()).to.deep.equal({ requests: 3, handshakesAccepted: 4, handshakesRejected: 2, openConnections: 2, h10Removed: 1, edgeAnswered: 0, connectionsRefused: 2 });
  });

  it('renders the duration histogram exactly as prom-client’s Histogram would, and scrapes twice alike', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const reference = new Registry();
    const h = new Histogram({ name: 'mtls_edge_request_duration_seconds', help: 'Time from request to response end, by route.', labelNames: ['route'], buckets: [...DURATION_BUCKETS], registers: [reference] });
    const durationsMs = [0, 0.4, 1, 1.0001, 2.5, 7, 10, 49.9, 50, 333, 1000, 2500, 9999, 30_000, 30_001, 120_000];
    for (const [i, ms] of durationsMs.entries()) {
      const route = i % 3 === 0 ? 'b.test/' : 'api.acme.test/';
      m.emit(requestEvent({ durationMs: ms, route }));
      h.observe({ route }, ms / 1000);
    }
    const histogramLines = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('mtls_edge_request_duration_seconds')).sort();
    const first = (await m.render()).body;
    expect(histogramLines(first)).to.deep.equal(histogramLines(await reference.metrics()));
    expect((await m.render()).body).to.equal(first);
  });

  it('has all of prom-client’s default process metrics, registered at the first render', async () => {
    // prom-client's defaults are the process_ and nodejs_ families; the edge's own counters are checked above.
    const names = (r: Registry): string[] => r.getMetricsAsArray().map((x) => x.name).filter((n) => /^mtls_edge_(process|nodejs)_/.test(n)).sort();
    const all = new Registry();
    collectDefaultMetrics({ register: all, prefix: 'mtls_edge_' });
    const m = createMetrics({ defaultMetrics: true });
    // Before any scrape: none of them, so nothing (the GC observer above all) runs per request.
    expect(names(m.registry)).to.deep.equal([]);
    const body = (await m.render()).body;
    expect(names(m.registry)).to.deep.equal(names(all));
    expect(names(m.registry)).to.include('mtls_edge_nodejs_gc_duration_seconds');
    expect(body).to.contain('mtls_edge_process_cpu_seconds_total');
    // A second scrape registers nothing twice (prom-client would throw on a duplicate name).
    expect((await m.render()).body).to.contain('mtls_edge_process_cpu_seconds_total');
  });

  it('keeps instances apart (private registries)', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: true });
    a.emit(requestEvent());
    expect(sample((await b.render()).body, 'mtls_edge_requests_total', 'status="200",route="api.acme.test/"')).to.equal(undefined);
    expect((await b.render()).body).to.contain('mtls_edge_process_cpu_seconds_total');
    expect(sample((await a.render()).body, 'mtls_edge_requests_total', 'status="200",route="api.acme.test/"')).to.equal(1);
  });
});

describe('observe/ringBuffer', () => {
  it('keeps only the newest N, oldest first', () => {
    const r = new RingBuffer<number>(3);
    expect(r.toArray()).to.deep.equal([]);
    for (let i = 1; i <= 7; i++) r.push(i);
    expect(r.size).to.equal(3);
    expect(r.toArray()).to.deep.equal([5, 6, 7]);
    r.clear();
    expect(r.toArray()).to.deep.equal([]);
    expect(() => new RingBuffer(0)).to.throw(RangeError);
  });
});
