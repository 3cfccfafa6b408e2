// The SNI peek parses bytes straight from the network before any TLS object exists: it must answer
// incomplete / invalid / ok for every input and never throw (a throw in a socket's data handler
// would take the process down).
import { expect } from 'chai';
import fc from 'fast-check';
import { peekClientHello } from '../../src/tls/clientHello.js';

const CASES: ReadonlyArray<{ name: string; hex: string; state: 'incomplete' | 'invalid' | 'ok' }> = [
  { name: 'empty', hex: '', state: 'incomplete' },
  { name: 'record header only', hex: '1603010010', state: 'incomplete' },
  { name: 'handshake type byte only (record length 1)', hex: '160301000101', state: 'invalid' },
  { name: 'handshake header cut at 3 of 4 bytes', hex: '160301000301000a', state: 'invalid' },
  { name: 'not a handshake record', hex: '170301000101', state: 'invalid' },
  { name: 'plain HTTP', hex: Buffer.from('GET / HTTP/1.1\r\n').toString('hex'), state: 'invalid' },
];

describe('tls/clientHello: peekClientHello', () => {
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
});
