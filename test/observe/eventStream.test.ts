// The flow page's JSON for an event: the same object a plain JSON.stringify would give (request
// events are assembled from cached parts), and secrets scrubbed in every part.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStream, eventToJson } from '../../src/observe/eventStream.js';
import type { EdgeEvent } from '../../src/observe/events.js';
import { DEV_CLIENT, SET_FOR_DEV_CLIENT, SPOOFED, T0, requestEvent } from './fixtures.js';

const KEY_BLOCK = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----';

const EVENTS: ReadonlyArray<{ name: string; event: EdgeEvent }> = [
  { name: 'request with a certificate and the ten values', event: requestEvent() },
  { name: 'request without a certificate', event: requestEvent({ cert: null, verify: null, h10: { sent: [], removed: [], set: [] } }) },
  { name: 'request with spoofed headers removed', event: requestEvent({ h10: { sent: SPOOFED, removed: SPOOFED, set: SET_FOR_DEV_CLIENT } }) },
  { name: 'request with optional fields', event: requestEvent({ clientPort: 50123, bytesSent: 812, upstreamConnectMs: 1, upstreamResponseMs: 3 }) },
  { name: 'lifecycle', event: { kind: 'lifecycle', time: T0, level: 'info', message: 'ready' } },
];

describe('observe/eventStream: eventToJson', () => {
  for (const row of EVENTS) {
    it(`${row.name}: parses to the same object as JSON.stringify`, () => {
      const json = eventToJson({ seq: 7, event: row.event });
      expect(JSON.parse(json)).to.deep.equal(JSON.parse(JSON.stringify({ seq: 7, event: row.event })));
    });
  }

  it('a request event serialised twice (cached parts) gives the same text', () => {
    const event = requestEvent();
    expect(eventToJson({ seq: 1, event })).to.equal(eventToJson({ seq: 1, event }));
  });

  it('a new ten-value list per request, sharing the template pairs, gives the same text as the first', () => {
    const first = requestEvent({ id: 'req-same', h10: { sent: [], removed: [], set: SET_FOR_DEV_CLIENT.slice() } });
    const next = requestEvent({ id: 'req-same', h10: { sent: [], removed: [], set: SET_FOR_DEV_CLIENT.slice() } });
    const expected = JSON.stringify({ seq: 1, event: first });
    expect(JSON.parse(eventToJson({ seq: 1, event: first }))).to.deep.equal(JSON.parse(expected));
    expect(eventToJson({ seq: 1, event: next })).to.equal(eventToJson({ seq: 1, event: first }));
  });

  it('serialises the certificate summary and the long header pairs once, however many requests share them', () => {
    // Reads of a getter count serialisations: JSON.stringify reads every property it writes.
    let summaryReads = 0;
    const cert = Object.defineProperty({ ...DEV_CLIENT }, 'subject', {
      enumerable: true,
      get: () => {
        summaryReads++;
        return DEV_CLIENT.subject;
      },
    });
    let pairReads = 0;
    const xfcc = SET_FOR_DEV_CLIENT.find((p) => p[1].length >= 64)!;
    const longPair = Object.defineProperty([xfcc[0]] as unknown as [string, string], 1, {
      enumerable: true,
      get: () => {
        pairReads++;
        return xfcc[1];
      },
    });
    const set = SET_FOR_DEV_CLIENT.map((p) => (p === xfcc ? longPair : p));
    const texts = [1, 2, 3].map((i) => eventToJson({ seq: i, event: requestEvent({ id: `r${i}`, cert, h10: { sent: [], removed: [], set: set.slice() } }) }));
    expect(summaryReads, 'certificate summary serialised once').to.equal(1);
    // headerPairsJson reads the value once to decide whether the pair is long enough to cache,
    // then JSON.stringify reads it once, the first time only.
    expect(pairReads, 'long pair serialised once (plus one length check per request)').to.equal(1 + 3);
    expect(JSON.parse(texts[2]!).event.cert.subject).to.equal(DEV_CLIENT.subject);
    expect(JSON.parse(texts[2]!).event.h10.set).to.deep.include([xfcc[0], xfcc[1]]);
  });

  const SECRET_PLACES: ReadonlyArray<{ where: string; event: EdgeEvent }> = [
    { where: 'the path', event: requestEvent({ path: `/x?k=${KEY_BLOCK}` }) },
    { where: 'a header the client sent', event: requestEvent({ h10: { sent: [['X-SSL-Client-Cert', KEY_BLOCK]], removed: [], set: SET_FOR_DEV_CLIENT } }) },
    { where: 'a value the edge set', event: requestEvent({ h10: { sent: [], removed: [], set: [['X-Forwarded-Client-Cert', KEY_BLOCK]] } }) },
    { where: 'the certificate summary', event: requestEvent({ cert: { ...DEV_CLIENT, subject: KEY_BLOCK } }) },
    { where: 'an upstream URL with a password', event: requestEvent({ upstream: 'http://user:s3cret@127.0.0.1:3000' }) },
  ];
  for (const row of SECRET_PLACES) {
    it(`scrubs a secret in ${row.where}`, () => {
      const json = eventToJson({ seq: 1, event: row.event });
      expect(json).to.not.include('MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg');
      expect(json).to.not.include('s3cret');
      expect(() => JSON.parse(json)).to.not.throw();
    });
  }
});

describe('observe/eventStream: rate cap for pages', function () {
  this.timeout(10_000);

  /** Attaches one page over real HTTP on loopback and collects its stream for `ms`. */
  async function page(stream: EventStream, during: () => void, ms: number): Promise<string> {
    const server = http.createServer((_req, res) => stream.attach(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      return await new Promise<string>((resolve, reject) => {
        let text = '';
        const req = http.get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/', agent: false }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (text === '') during();
            text += d;
          });
          setTimeout(() => {
            req.destroy();
            resolve(text);
          }, ms);
        });
        req.on('error', reject);
      });
    } finally {
      stream.close();
      server.closeAllConnections();
      server.close();
    }
  }

  const frames = (text: string, name: string): string[] => text.split('\n\n').filter((f) => f.includes(`event: ${name}\n`));

  it('sends at most maxEventsPerSecond events, then one skipped notice with the count', async () => {
    const stream = new EventStream({ maxEventsPerSecond: 5 });
    const text = await page(stream, () => {
      for (let i = 0; i < 50; i++) stream.emit(requestEvent({ path: `/n${i}` }));
    }, 1_600);
    expect(frames(text, 'edge')).to.have.length(5);
    const skipped = frames(text, 'skipped');
    expect(skipped).to.have.length(1);
    expect(JSON.parse(skipped[0]!.split('data: ')[1]!)).to.deep.equal({ count: 45, maxPerSecond: 5 });
    expect(stream.recent(), 'the ring keeps every event').to.have.length(50);
  });

  it('below the cap every event is sent and nothing is reported skipped', async () => {
    const stream = new EventStream({ maxEventsPerSecond: 100 });
    const text = await page(stream, () => {
      for (let i = 0; i < 20; i++) stream.emit(requestEvent({ path: `/n${i}` }));
    }, 300);
    expect(frames(text, 'edge')).to.have.length(20);
    expect(frames(text, 'skipped')).to.have.length(0);
  });
});

describe('observe/eventStream: replay to a page that connects', function () {
  this.timeout(10_000);

  it('replays the newest events of the ring, in order, up to maxBufferedBytes (a full ring of large events is not queued whole)', async () => {
    const stream = new EventStream({ ringSize: 200, maxBufferedBytes: 256 * 1024 });
    // 200 events of about 20 KB: 4 MB in the ring, 256 KB may be replayed.
    for (let i = 0; i < 200; i++) stream.emit({ kind: 'lifecycle', time: T0, level: 'info', message: `e${i} ${'x'.repeat(20_000)}` });
    const server = http.createServer((_req, res) => stream.attach(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const text = await new Promise<string>((resolve, reject) => {
        let got = '';
        const req = http.get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/', agent: false }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (d: string) => (got += d));
          setTimeout(() => {
            req.destroy();
            resolve(got);
          }, 500);
        });
        req.on('error', reject);
      });
      const seqs = text.split('\n\n').filter((f) => f.includes('event: edge\n')).map((f) => Number(/^id: (\d+)/m.exec(f)![1]));
      expect(text.length, 'replayed bytes').to.be.within(200 * 1024, 256 * 1024 + 1024);
      expect(seqs[seqs.length - 1], 'the newest event is replayed').to.equal(200);
      expect(seqs, 'consecutive, oldest first').to.deep.equal(Array.from({ length: seqs.length }, (_, i) => 201 - seqs.length + i));
    } finally {
      stream.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('observe/eventStream: work done only while a page is open', function () {
  this.timeout(10_000);

  it('whileViewed starts at the first page and stops when the last one leaves', async () => {
    const calls: string[] = [];
    const stream = new EventStream({ whileViewed: () => (calls.push('start'), () => calls.push('stop')) });
    const server = http.createServer((_req, res) => stream.attach(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    /** A page: resolves once its stream has begun; destroy() leaves. */
    const open = (): Promise<http.ClientRequest> =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => res.once('data', () => resolve(req)));
        req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
      });
    const until = async (want: number): Promise<void> => {
      for (let i = 0; i < 200 && calls.length < want; i++) await new Promise((r) => setTimeout(r, 25));
    };
    try {
      expect(calls).to.deep.equal([]);
      const first = await open();
      const second = await open();
      expect(calls).to.deep.equal(['start']);
      first.destroy();
      second.destroy();
      await until(2);
      expect(calls).to.deep.equal(['start', 'stop']);
      (await open()).destroy();
      await until(4);
      expect(calls).to.deep.equal(['start', 'stop', 'start', 'stop']);
    } finally {
      stream.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
