// The SNI peek parses bytes straight from the network before any TLS object exists: it must answer
// incomplete / invalid / ok for every input and never throw (a throw in a socket's data handler
// would take the process down).
import { expect } from 'chai';
import fc from 'fast-check';
import { ClientHelloReader, peekClientHello } from '../../src/tls/clientHello.js';

const CASES: ReadonlyArray<{ name: string; hex: string; state: 'incomplete' | 'invalid' | 'ok' }> = [
  { name: 'empty', hex: '', state: 'incomplete' },
  { name: 'record header only', hex: '1603010010', state: 'incomplete' },
  // The hello may go on in the next record (RFC 8446 §5.1): wait for it, as OpenSSL does.
  { name: 'handshake type byte only (record length 1)', hex: '160301000101', state: 'incomplete' },
  { name: 'handshake header cut at 3 of 4 bytes', hex: '160301000301000a', state: 'incomplete' },
  { name: 'not a handshake record', hex: '170301000101', state: 'invalid' },
  { name: 'first handshake message not a ClientHello', hex: '160301000102', state: 'invalid' },
  { name: 'a record of another type before the hello is complete', hex: '160301000101' + '1503010002022f', state: 'invalid' },
  { name: 'a zero-length record', hex: '1603010000', state: 'invalid' },
  { name: 'a hello declared larger than the peek buffers (64 KiB)', hex: '16030100040101' + '0000', state: 'invalid' },
  { name: 'plain HTTP', hex: Buffer.from('GET / HTTP/1.1\r\n').toString('hex'), state: 'invalid' },
];

/** A minimal ClientHello handshake message (header included) with an SNI extension. */
function clientHello(sni: string): Buffer {
  const name = Buffer.from(sni, 'latin1');
  const entry = Buffer.concat([Buffer.from([0x00, name.length >> 8, name.length & 0xff]), name]);
  const list = Buffer.concat([Buffer.from([entry.length >> 8, entry.length & 0xff]), entry]);
  // An extension before the SNI, so that splits also fall between extensions.
  const alpn = Buffer.from('0010000b000908687474702f312e31', 'hex'); // ALPN: http/1.1
  const ext = Buffer.concat([alpn, Buffer.from([0x00, 0x00, list.length >> 8, list.length & 0xff]), list]);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), Buffer.alloc(32, 7), // version, random
    Buffer.from([0x00]), // session_id
    Buffer.from([0x00, 0x02, 0x13, 0x01]), // cipher_suites
    Buffer.from([0x01, 0x00]), // compression_methods
    Buffer.from([ext.length >> 8, ext.length & 0xff]), ext,
  ]);
  return Buffer.concat([Buffer.from([0x01, 0x00, body.length >> 8, body.length & 0xff]), body]);
}

/** The message in handshake records, cut at the given offsets. */
function inRecords(message: Buffer, cuts: readonly number[]): Buffer {
  const bounds = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < message.length).sort((a, b) => a - b), message.length];
  const records: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const part = message.subarray(bounds[i], bounds[i + 1]);
    records.push(Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]), part);
  }
  return Buffer.concat(records);
}

describe('tls/clientHello: peekClientHello', () => {
  it('a hello in one record: its SNI', () => {
    expect(peekClientHello(inRecords(clientHello('api.example.test'), []))).to.deep.equal({ state: 'ok', sni: 'api.example.test' });
  });

  it('a hello split over records at every offset: the same SNI, and incomplete until its last record', () => {
    const hello = clientHello('api.example.test');
    for (let cut = 1; cut < hello.length; cut++) {
      const bytes = inRecords(hello, [cut]);
      expect(peekClientHello(bytes), `cut at ${cut}`).to.deep.equal({ state: 'ok', sni: 'api.example.test' });
      expect(peekClientHello(bytes.subarray(0, bytes.length - 1)).state, `cut at ${cut}, last byte missing`).to.equal('incomplete');
    }
  });

  it('a hello sent one byte per record: its SNI', () => {
    const hello = clientHello('one.byte.test');
    expect(peekClientHello(inRecords(hello, [...hello.keys()]))).to.deep.equal({ state: 'ok', sni: 'one.byte.test' });
  });

  it('fed in pieces as they arrive (one record, then one byte, at a time): the same outcome as all at once', () => {
    const hello = clientHello('piece.by.piece.test');
    const bytes = inRecords(hello, [...hello.keys()]);
    for (const piece of [1, 6, 7, 1000]) {
      const reader = new ClientHelloReader();
      let last = reader.push(Buffer.alloc(0));
      for (let i = 0; i < bytes.length; i += piece) {
        expect(last.state, `piece ${piece}, at ${i}`).to.equal('incomplete');
        last = reader.push(bytes.subarray(i, i + piece));
      }
      expect(last, `piece ${piece}`).to.deep.equal({ state: 'ok', sni: 'piece.by.piece.test' });
    }
  });

  it('a hello declared 64 KiB long, sent as one-byte records: refused as too large once past the limit', () => {
    const reader = new ClientHelloReader();
    let r = reader.push(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0xff, 0xfc]));
    let records = 0;
    const oneByte = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, 0x00]);
    while (r.state === 'incomplete' && records < 20_000) {
      r = reader.push(oneByte);
      records++;
    }
    // The declared length is within the limit; the bytes received are not.
    expect(r).to.deep.equal({ state: 'invalid', reason: 'ClientHello too large' });
    expect(records * oneByte.length).to.be.within(64 * 1024 - 9, 64 * 1024);
  });

  it('random splits of a hello give its SNI (500 runs)', () => {
    const hello = clientHello('split.example.test');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: hello.length - 1 }), { maxLength: 12 }), (cuts) => {
        const r = peekClientHello(inRecords(hello, cuts));
        return r.state === 'ok' && r.sni === 'split.example.test';
      }),
      { numRuns: 500 },
    );
  });

  for (const c of CASES) {
    it(`${c.name} → ${c.state}`, () => {
      expect(peekClientHello(Buffer.from(c.hex, 'hex')).state).to.equal(c.state);
    });
  }

  it('never throws on arbitrary bytes behind a TLS handshake record header (2,000 runs)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.uint8Array({ maxLength: 600 }), (declared, bytes) => {
        const header = Buffer.from([0x16, 0x03, 0x01, declared >> 8, declared & 0xff]);
        const state = peekClientHello(Buffer.concat([header, bytes])).state;
        return state === 'incomplete' || state === 'invalid' || state === 'ok';
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary handshake records (2,000 runs)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 80 }), { minLength: 1, maxLength: 8 }), (fragments) => {
        const bytes = Buffer.concat(fragments.map((f) => Buffer.concat([Buffer.from([0x16, 0x03, 0x03, f.length >> 8, f.length & 0xff]), f])));
        const state = peekClientHello(bytes).state;
        return state === 'incomplete' || state === 'invalid' || state === 'ok';
      }),
      { numRuns: 2000 },
    );
  });
});
