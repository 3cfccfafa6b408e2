import { constants } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { sessionIdFromSessionDer } from '../../src/headers/sessionId.js';
import { expect } from 'chai';
import { TempDir, derToPem, makeRoot, openssl, tlv } from './fixtures.js';

const int = (n: number): Buffer => tlv(0x02, Buffer.from([n]));
const oct = (b: Buffer): Buffer => tlv(0x04, b);
const ID = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');

const CASES: { title: string; der: Uint8Array | undefined; expected: Buffer | null }[] = [
  { title: 'undefined', der: undefined, expected: null },
  { title: 'empty buffer', der: Buffer.alloc(0), expected: null },
  { title: 'garbage', der: Buffer.from('hello world'), expected: null },
  {
    title: 'well-formed (version, sslversion, cipher, session_id, master_key)',
    der: tlv(0x30, int(1), tlv(0x02, Buffer.from([0x03, 0x03])), oct(Buffer.from([0xc0, 0x2f])), oct(ID), oct(Buffer.alloc(48))),
    expected: ID,
  },
  {
    title: 'empty session_id (tickets, TLS 1.3 before the first read)',
    der: tlv(0x30, int(1), int(3), oct(Buffer.from([0x13, 0x01])), oct(Buffer.alloc(0)), oct(Buffer.alloc(48))),
    expected: null,
  },
  { title: 'fourth field missing', der: tlv(0x30, int(1), int(3), oct(Buffer.from([0x13, 0x01]))), expected: null },
  {
    title: 'fourth field of the wrong type',
    der: tlv(0x30, int(1), int(3), oct(Buffer.from([0x13, 0x01])), int(5)),
    expected: null,
  },
  {
    title: 'truncated',
    der: tlv(0x30, int(1), int(3), oct(Buffer.from([0x13, 0x01])), oct(ID)).subarray(0, 20),
    expected: null,
  },
];

describe('headers/sessionId', function () {
  this.timeout(30_000);
  for (const c of CASES) {
    it(c.title, () => {
      const got = sessionIdFromSessionDer(c.der);
      expect(got === null ? null : got.toString('hex')).to.equal(c.expected === null ? null : c.expected.toString('hex'));
    });
  }

  describe('a real TLS 1.2 session without tickets (as HAProxy runs)', () => {
    const dir = new TempDir();
    before(() => dir.create());
    after(() => dir.remove());

    it('client and server see the same 32-byte ID, and openssl sess_id agrees', async () => {
      const server = await makeRoot(dir, 'sess-server', '/CN=localhost');
      const opts: tls.SecureContextOptions = {
        key: readFileSync(server.keyPath),
        cert: readFileSync(server.certPath),
      };
      const srv = tls.createServer({ ...opts, secureOptions: constants.SSL_OP_NO_TICKET });
      const serverSession = new Promise<Buffer | undefined>((resolve) => {
        srv.on('secureConnection', (s) => {
          resolve(s.getSession());
          s.end();
        });
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      try {
        const port = (srv.address() as AddressInfo).port;
        const clientSession = await new Promise<Buffer | undefined>((resolve, reject) => {
          const c = tls.connect(
            { host: '127.0.0.1', port, ca: readFileSync(server.certPath), servername: 'localhost', maxVersion: 'TLSv1.2' },
            () => {
              resolve(c.getSession());
              c.end();
            },
          );
          c.on('error', reject);
        });
        const s = sessionIdFromSessionDer(await serverSession);
        const cl = sessionIdFromSessionDer(clientSession);
        expect(s).to.not.equal(null);
        expect(s!.length).to.equal(32);
        expect(cl!.toString('hex')).to.equal(s!.toString('hex'));

        const pem = dir.file('session.pem');
        writeFileSync(pem, derToPem(clientSession!, 'SSL SESSION PARAMETERS'));
        const { stdout } = await openssl(['sess_id', '-in', pem, '-noout', '-text']);
        const m = /Session-ID: ([0-9A-F]+)/.exec(stdout.toString());
        expect(m?.[1]).to.equal(s!.toString('hex').toUpperCase());
      } finally {
        srv.close();
      }
    });
  });
});
