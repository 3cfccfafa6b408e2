// A ClientHello split over several TLS records (RFC 8446 §5.1 allows any split) must pick the TLS
// configuration its SNI names, as OpenSSL and HAProxy read it. Review 12 found the peek read the
// first record only: a split before the SNI looked like "no SNI", so the first configuration
// (optional client auth) served a name whose own configuration requires a certificate, and a split
// before the extensions was refused as a truncated hello.
import { expect } from 'chai';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { HandshakeRejectedEvent, RequestEvent } from '../../src/observe/events.js';
import { eventually, startTestEdge, testPki, type TestEdge } from '../support/edgeHarness.js';

/**
 * A TLS client whose first record (its ClientHello) is re-framed as two handshake records, the
 * first `split` bytes of the hello in the first one. Resolves with the answer's status line, or
 * null when the connection ended without an HTTP answer.
 */
function requestWithSplitHello(port: number, servername: string, split: number): Promise<string | null> {
  return new Promise((resolve) => {
    const raw = net.connect(port, '127.0.0.1');
    let pending: Buffer | null = Buffer.alloc(0);
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        if (pending === null) {
          raw.write(chunk, done);
          return;
        }
        pending = Buffer.concat([pending, chunk]);
        if (pending.length < 5 || pending.length < 5 + pending.readUInt16BE(3)) {
          done();
          return;
        }
        const length = pending.readUInt16BE(3);
        const hello = pending.subarray(5, 5 + length);
        const record = (part: Buffer): Buffer => Buffer.concat([Buffer.from([0x16, pending![1]!, pending![2]!, part.length >> 8, part.length & 0xff]), part]);
        raw.write(Buffer.concat([record(hello.subarray(0, split)), record(hello.subarray(split)), pending.subarray(5 + length)]), done);
        pending = null;
      },
      final(done) {
        raw.end();
        done();
      },
    });
    raw.on('data', (d: Buffer) => wire.push(d));
    raw.on('end', () => wire.push(null));
    raw.on('close', () => wire.destroy());
    raw.on('error', (e) => wire.destroy(e));
    const socket = tls.connect({ socket: wire, servername, rejectUnauthorized: false }, () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    });
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), 5_000);
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      raw.destroy();
      resolve(answer === '' ? null : answer.split('\r\n')[0]!);
    });
  });
}

describe('hostile: a ClientHello split over TLS records', function () {
  this.timeout(60_000);
  let t: TestEdge;
  // Offsets inside the hello: its header, the random, the cipher suites, the extensions (Node's
  // hello is about 300 bytes; its SNI comes after the first extensions).
  const SPLITS = [1, 3, 40, 100, 150, 200, 250];

  before(async () => {
    const { pki } = await testPki();
    // The first configuration takes clients without SNI: optional client auth, every verify error
    // ignored. The second requires a certificate. Both fronting checks off, so only the TLS
    // configuration chosen from the SNI decides.
    t = await startTestEdge(
      {},
      [
        'disable_domain_fronting: false',
        'disable_client_auth_fronting: false',
        'tls:',
        '  - name: lax',
        '    hosts: [lax.localhost]',
        `    cert: ${pki.server.chain}`,
        `    key: ${pki.server.key}`,
        `    trust: [${pki.rootCa.cert}]`,
        '    client_auth: optional',
        '    ignore_errors: all',
        '  - name: strict',
        '    hosts: [api.localhost]',
        `    cert: ${pki.server.chain}`,
        `    key: ${pki.server.key}`,
        `    trust: [${pki.rootCa.cert}]`,
        '    client_auth: required',
        '',
      ].join('\n'),
    );
  });
  after(async () => t?.close());

  for (const split of SPLITS) {
    it(`split after ${split} bytes, SNI of the configuration that requires a certificate, none sent: refused`, async () => {
      const before = t.events.length;
      expect(await requestWithSplitHello(t.httpsPort, 'api.localhost', split)).to.equal(null);
      await eventually(() => t.events.slice(before).some((e) => e.kind === 'handshake-rejected'));
      const ev = t.events.slice(before).find((e): e is HandshakeRejectedEvent => e.kind === 'handshake-rejected')!;
      expect(ev.sni).to.equal('api.localhost');
      expect(ev.reason).to.equal('no client certificate sent');
      expect(t.events.slice(before).some((e) => e.kind === 'request'), 'no request reached the app').to.equal(false);
    });

    it(`split after ${split} bytes, SNI of the optional configuration: served under it`, async () => {
      const before = t.events.length;
      expect(await requestWithSplitHello(t.httpsPort, 'lax.localhost', split)).to.equal('HTTP/1.1 200 OK');
      await eventually(() => t.events.slice(before).some((e) => e.kind === 'request'));
      const ev = t.events.slice(before).find((e): e is RequestEvent => e.kind === 'request')!;
      expect(ev.sni).to.equal('lax.localhost');
      expect(ev.tlsConfig).to.equal('lax');
    });
  }
});
