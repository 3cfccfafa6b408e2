// The perf split in docs/performance.md decides how much of a handshake is OpenSSL and how much the
// proxy's own code; this pins how a sample's (dso, symbol) is classified, for HAProxy (dynamic
// libcrypto) and for node (OpenSSL linked in, JIT code without symbols).
import { expect } from 'chai';
import { areaOf, splitPerHandshake, type Area } from '../../bench/nativeSplit.js';

const ROWS: ReadonlyArray<readonly [dso: string, symbol: string, area: Area]> = [
  ['libcrypto.so.3', 'ecp_nistz256_point_add', 'OpenSSL'],
  ['libssl.so.3', 'tls_process_client_hello', 'OpenSSL'],
  ['haproxy', 'process_stream', 'proxy code'],
  ['libc.so.6', 'malloc', 'C library'],
  ['[kernel.kallsyms]', 'tcp_ack', 'kernel'],
  ['node', '__ecp_nistz256_mul_montx', 'OpenSSL'],
  ['node', 'ossl_sa_doall_arg', 'OpenSSL'],
  ['node', 'v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>', 'proxy code'],
  ['node', 'node::crypto::TLSWrap::ClearOut', 'proxy code'],
  ['node', 'Builtins_LoadIC', 'proxy code'],
  ['node', 'uv__io_poll', 'proxy code'],
  ['node', 'llhttp__internal_execute', 'proxy code'],
  ['[unknown]', '0x00007f0a1b2c3d4e', 'proxy code'],
  ['[JIT] tid 4242', 'LazyCompile:~onread', 'proxy code'],
  ['libz.so.1', 'inflate', 'other'],
];

describe('bench/nativeSplit: where a perf sample belongs', () => {
  for (const [dso, symbol, area] of ROWS) {
    it(`${dso} ${symbol} → ${area}`, () => expect(areaOf(dso, symbol)).to.equal(area));
  }
  it('splits CPU per handshake by sample share', () => {
    const us = splitPerHandshake(new Map<Area, number>([['OpenSSL', 600], ['proxy code', 300], ['kernel', 100]]), 1.5);
    expect(us.get('OpenSSL')).to.equal(900);
    expect(us.get('proxy code')).to.equal(450);
    expect(us.get('kernel')).to.equal(150);
  });
});
