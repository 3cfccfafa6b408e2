// The TLS front has two ways into a handshake: with several TLS configurations (or strict SNI) it
// peeks the ClientHello's SNI first; with one configuration it hands the TCP stream to TLS at once
// (cheaper per connection). Both must report the same facts: the SNI, the rejection reasons.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { HandshakeRejectedEvent, RequestEvent } from '../../src/observe/events.js';
import { needsSniPeek } from '../../src/tls/tlsFront.js';
import { alpnWireFormat, type TlsProfile, type TlsProfileSet } from '../../src/tls/tlsProfiles.js';
import { clientIdentity, eventually, httpsRequest, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { ResponseReader, tcpConnect } from '../support/rawHttp.js';

const profile = {} as TlsProfile;
const NEEDS_PEEK: ReadonlyArray<{ profiles: number; strictSni: boolean; peek: boolean }> = [
  { profiles: 1, strictSni: false, peek: false },
  { profiles: 1, strictSni: true, peek: true },
  { profiles: 2, strictSni: false, peek: true },
  { profiles: 3, strictSni: true, peek: true },
];

describe('tls/tlsFront', function () {
  this.timeout(60_000);

  describe('needsSniPeek', () => {
    for (const row of NEEDS_PEEK) {
      it(`${row.profiles} configuration(s), strict SNI ${row.strictSni ? 'on' : 'off'} → ${row.peek ? 'peek' : 'direct'}`, () => {
        const set: TlsProfileSet = { profiles: Array.from({ length: row.profiles }, () => profile), strictSni: row.strictSni };
        expect(needsSniPeek(set)).to.equal(row.peek);
      });
    }
  });

  // The same single configuration, once without and once with strict SNI: the direct path and the
  // peek path must report the same SNI and reasons.
  const PATHS = [
    { name: 'direct (one configuration)', strict: false },
    { name: 'peek (strict SNI)', strict: true },
  ] as const;

  for (const path of PATHS) {
    describe(`${path.name}`, () => {
      let t: TestEdge;
      let valid: ClientIdentity;
      let expired: ClientIdentity;
      const rejections = (): HandshakeRejectedEvent[] => t.events.filter((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected');

      before(async () => {
        const { pki } = await testPki();
        valid = await clientIdentity('valid');
        expired = await clientIdentity('expired');
        t = await startTestEdge(
          {},
          [
            `strict_sni: ${path.strict}`,
            'tls:',
            `  - hosts: [localhost, "*.cert.localhost"]`,
            `    cert: ${pki.server.chain}`,
            `    key: ${pki.server.key}`,
            `    trust: [${pki.rootCa.cert}]`,
            '',
          ].join('\n'),
        );
      });
      after(async () => t?.close());

      it('an accepted connection carries the SNI the client sent', async () => {
        const r = await httpsRequest(t.httpsPort, { identity: valid, servername: 'x.cert.localhost', headers: { host: 'x.cert.localhost' } });
        expect(r.status).to.equal(200);
        const req = t.events.filter((e): e is RequestEvent => e.kind === 'request').at(-1)!;
        expect(req.sni).to.equal('x.cert.localhost');
      });

      it('a refused certificate is reported with the SNI', async () => {
        const before = rejections().length;
        await httpsRequest(t.httpsPort, { identity: expired, servername: 'y.cert.localhost', headers: { host: 'y.cert.localhost' } }).then(
          (r) => expect.fail(`expected a refusal, got HTTP ${r.status}`),
          (e: Error) => expect(e.name).to.not.equal('AssertionError'),
        );
        await eventually(() => rejections().length > before);
        const ev = rejections()[before]!;
        expect(ev.sni).to.equal('y.cert.localhost');
        expect(ev.verify?.code).to.equal(10);
      });

      it('a forged TLS record after the handshake closes the connection at once (as HAProxy does)', async () => {
        const raw = await tcpConnect(t.httpsPort);
        const client = tls.connect({ socket: raw, servername: 'localhost', cert: valid.cert, key: valid.key, rejectUnauthorized: false });
        client.on('error', () => undefined);
        try {
          await new Promise<void>((resolve, reject) => {
            client.once('secureConnect', () => client.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
            client.once('data', () => resolve());
            client.once('close', () => reject(new Error('closed before the response')));
          });
          const closedAt = new Promise<number>((resolve) => raw.once('close', () => resolve(Date.now())));
          const sentAt = Date.now();
          // An application-data record written past the TLS layer: its MAC cannot be right.
          raw.write(Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20]), Buffer.alloc(32, 7)]));
          const closed = await Promise.race([closedAt, new Promise<null>((r) => setTimeout(() => r(null), 3_000))]);
          expect(closed, 'the edge kept the connection open after a bad record').to.not.equal(null);
          expect(closed! - sentAt).to.be.lessThan(3_000);
        } finally {
          client.destroy();
          raw.destroy();
        }
      });

      for (const garbage of [
        { what: 'plain HTTP', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'), reason: /^plain HTTP sent to the HTTPS port/ },
        { what: 'random bytes', bytes: Buffer.from('\x00\x01\x02\x03 not tls at all, just bytes\r\n'), reason: /^not a TLS handshake/ },
      ]) {
        it(`${garbage.what} → closed and reported as such`, async () => {
          const before = rejections().length;
          const socket = await tcpConnect(t.httpsPort);
          try {
            const reader = new ResponseReader(socket);
            socket.write(garbage.bytes);
            await reader.untilClosed(5_000).catch(() => undefined);
          } finally {
            socket.destroy();
          }
          await eventually(() => rejections().length > before);
          expect(rejections()[before]!.reason).to.match(garbage.reason);
        });
      }
    });
  }
});

describe('tls/tlsProfiles: ALPN wire format', () => {
  const ROWS: ReadonlyArray<{ protocols: string[]; hex: string }> = [
    { protocols: ['http/1.1'], hex: '08687474702f312e31' },
    { protocols: ['h2', 'http/1.1'], hex: '026832' + '08687474702f312e31' },
    { protocols: [], hex: '' },
  ];
  for (const row of ROWS) {
    it(`[${row.protocols.join(', ')}] → ${row.hex || '(empty)'}`, () => {
      expect(alpnWireFormat(row.protocols).toString('hex')).to.equal(row.hex);
    });
  }

  it('a client offering h2 and http/1.1 gets http/1.1 from the edge', async () => {
    const t = await startTestEdge();
    try {
      const { pki } = await testPki();
      const proto = await new Promise<string | false | null>((resolve, reject) => {
        const c = tls.connect({ host: '127.0.0.1', port: t.httpsPort, servername: 'localhost', ca: readFileSync(pki.rootCa.cert), ALPNProtocols: ['h2', 'http/1.1'] }, () => {
          resolve(c.alpnProtocol);
          c.destroy();
        });
        c.on('error', reject);
      });
      expect(proto).to.equal('http/1.1');
    } finally {
      await t.close();
    }
  });
});
