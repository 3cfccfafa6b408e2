// The adapter to Node's TLS internals (src/tls/nodeTlsInternals.ts), each function through real
// handshakes on loopback, on server TLSSockets created the way the TLS front creates them (and its
// one http.Server switch through a real HTTP exchange). CI runs
// this file on Node 20 and on Node 22 (.ci/node22-smoke.sh): a Node that renames one of these
// internals fails here.
import { expect } from 'chai';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import {
  answerAfterClientFin, handshakeVerifyError, offHandshakeError, onHandshakeError, releaseHandshakeErrors, servernameOfFailedHandshake, type HandshakeError,
} from '../../src/tls/nodeTlsInternals.js';
import { clientIdentity, testPki, type ClientIdentity } from '../support/edgeHarness.js';

const WAIT_MS = 5_000;

/** What the server side saw of one connection. */
interface ServerSide {
  readonly socket: TLSSocket;
  /** Settles at 'secure' (with the verify error read then) or at the first handshake error. */
  readonly handshake: Promise<{ secure: true; verifyError: string | null; servername: string | null } | { secure: false; err: HandshakeError; servername: string | null }>;
}

interface Loopback {
  readonly port: number;
  /** The next connection's server side. */
  next(): Promise<ServerSide>;
  close(): Promise<void>;
}

/** A TCP listener that wraps each connection in a server TLSSocket, as src/tls/tlsFront.ts does. */
async function listen(options: { requestCert: boolean; rejectUnauthorized: boolean }, context: SecureContext): Promise<Loopback> {
  const waiting: ((side: ServerSide) => void)[] = [];
  const open = new Set<net.Socket>();
  const server = net.createServer((raw) => {
    open.add(raw);
    raw.on('close', () => open.delete(raw));
    raw.on('error', () => raw.destroy());
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context, ...options });
    socket.on('error', () => socket.destroy());
    const handshake = new Promise<Awaited<ServerSide['handshake']>>((resolve) => {
      onHandshakeError(socket, (err) => resolve({ secure: false, err, servername: servernameOfFailedHandshake(socket) }));
      socket.once('secure', () => resolve({ secure: true, verifyError: handshakeVerifyError(socket), servername: socket.servername || null }));
    });
    waiting.shift()?.({ socket, handshake });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    next: () => new Promise<ServerSide>((resolve) => waiting.push(resolve)),
    close: () => {
      for (const s of open) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A TLS client over a TCP socket the test keeps, so it can write raw bytes under the TLS layer. */
function connect(port: number, opts: { servername?: string; identity?: ClientIdentity }): { tcp: net.Socket; client: TLSSocket } {
  const tcp = net.connect({ host: '127.0.0.1', port });
  tcp.on('error', () => tcp.destroy());
  const client = tls.connect({ socket: tcp, servername: opts.servername, rejectUnauthorized: false, ...(opts.identity ? { cert: opts.identity.cert, key: opts.identity.key } : {}) });
  client.on('error', () => client.destroy());
  return { tcp, client };
}

function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TLS 1.2/1.3 application-data record whose bytes no key decrypts. */
const BOGUS_RECORD = Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20]), Buffer.alloc(0x20, 0x5a)]);

describe(`tls: Node TLS internals adapter (node ${process.version})`, function () {
  this.timeout(30_000);
  let context: SecureContext;
  let valid: ClientIdentity;
  let expired: ClientIdentity;
  const clients: net.Socket[] = [];
  let server: Loopback | null = null;

  before(async () => {
    const { pki } = await testPki();
    context = tls.createSecureContext({ cert: readFileSync(pki.server.chain), key: readFileSync(pki.server.key), ca: readFileSync(pki.rootCa.cert) });
    valid = await clientIdentity('valid');
    expired = await clientIdentity('expired');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await server?.close();
    server = null;
  });

  function dial(opts: { servername?: string; identity?: ClientIdentity }): { tcp: net.Socket; client: TLSSocket } {
    const c = connect(server!.port, opts);
    clients.push(c.tcp, c.client);
    return c;
  }

  describe('handshakeVerifyError', () => {
    it('is null for a client certificate that verified', async () => {
      server = await listen({ requestCert: true, rejectUnauthorized: false }, context);
      const side = server.next();
      dial({ servername: 'localhost', identity: valid });
      const result = await within((await side).handshake, 'handshake');
      expect(result).to.deep.include({ secure: true, verifyError: null, servername: 'localhost' });
    });

    it("is OpenSSL's code for a certificate that did not (expired: CERT_HAS_EXPIRED)", async () => {
      server = await listen({ requestCert: true, rejectUnauthorized: false }, context);
      const side = server.next();
      dial({ servername: 'localhost', identity: expired });
      const result = await within((await side).handshake, 'handshake');
      expect(result).to.deep.include({ secure: true, verifyError: 'CERT_HAS_EXPIRED' });
    });
  });

  describe('onHandshakeError / offHandshakeError / servernameOfFailedHandshake', () => {
    it('reports a handshake that failed for want of a client certificate, with the SNI the client sent', async () => {
      server = await listen({ requestCert: true, rejectUnauthorized: true }, context);
      const side = server.next();
      dial({ servername: 'edge.example' });
      const result = await within((await side).handshake, 'handshake error');
      expect(result.secure).to.equal(false);
      if (result.secure) return;
      expect(`${result.err.code ?? ''} ${result.err.message}`).to.match(/PEER_DID_NOT_RETURN_A_CERTIFICATE|CERTIFICATE_REQUIRED/i);
      expect(result.servername).to.equal('edge.example');
    });

    it('gives null as the SNI of a failed handshake whose client sent none', async () => {
      server = await listen({ requestCert: true, rejectUnauthorized: true }, context);
      const side = server.next();
      dial({});
      const result = await within((await side).handshake, 'handshake error');
      expect(result).to.deep.include({ secure: false, servername: null });
    });

    it('a removed listener is not called', async () => {
      server = await listen({ requestCert: true, rejectUnauthorized: true }, context);
      const side = server.next();
      dial({ servername: 'localhost' });
      const { socket, handshake } = await side;
      let removedCalls = 0;
      const removed = (): void => void removedCalls++;
      onHandshakeError(socket, removed);
      offHandshakeError(socket, removed);
      expect((await within(handshake, 'handshake error')).secure).to.equal(false);
      expect(removedCalls).to.equal(0);
    });
  });

  describe('releaseHandshakeErrors', () => {
    /** Completes a handshake, maybe releases, then corrupts the stream; says whether 'error' came. */
    async function errorAfterBogusRecord(release: boolean): Promise<{ errorEvent: boolean; handshakeError: boolean }> {
      server = await listen({ requestCert: false, rejectUnauthorized: false }, context);
      const side = server.next();
      const { tcp } = dial({ servername: 'localhost' });
      const { socket, handshake } = await side;
      // The server is secure once it has the client's Finished: the client writes nothing more.
      expect((await within(handshake, 'handshake')).secure).to.equal(true);
      if (release) releaseHandshakeErrors(socket);
      let errorEvent = false;
      let handshakeError = false;
      socket.prependListener('error', () => {
        errorEvent = true;
      });
      onHandshakeError(socket, () => {
        handshakeError = true;
      });
      tcp.write(BOGUS_RECORD);
      await within((async () => {
        while (!handshakeError) await sleep(10);
      })(), 'TLS error on the server socket');
      await sleep(50);
      return { errorEvent, handshakeError };
    }

    it("makes a TLS error after the handshake an 'error' event", async () => {
      expect(await errorAfterBogusRecord(true)).to.deep.equal({ errorEvent: true, handshakeError: true });
    });

    it("(without it, Node keeps such an error from 'error')", async () => {
      expect(await errorAfterBogusRecord(false)).to.deep.equal({ errorEvent: false, handshakeError: true });
    });
  });

  describe('answerAfterClientFin', () => {
    /** A request and its FIN to an http.Server; the bytes it answered before closing (bounded). */
    async function requestThenFin(switchedOn: boolean): Promise<string> {
      const server = http.createServer((req, res) => {
        req.resume();
        setTimeout(() => res.end('answered'), 50);
      });
      if (switchedOn) answerAfterClientFin(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      try {
        const tcp = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
        let text = '';
        tcp.on('data', (c: Buffer) => (text += c.toString('latin1')));
        tcp.on('error', () => undefined);
        tcp.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        await within(new Promise<void>((resolve) => tcp.once('close', () => resolve())), 'the server closing the connection');
        return text;
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }

    it('answers a request whose client half-closed, then closes', async () => {
      expect(await requestThenFin(true)).to.match(/^HTTP\/1\.1 200 OK[\s\S]*answered$/);
    });

    it('(without it, Node closes at the FIN and the answer is lost)', async () => {
      expect(await requestThenFin(false)).to.equal('');
    });
  });
});
