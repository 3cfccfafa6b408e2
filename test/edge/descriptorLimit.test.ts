// The open-files limit against max_connections: the start-up notice with its fix and the cap
// lowered to what the limit holds. The last cases run the real CLI under a low `ulimit -n` (Linux:
// the limit is read from /proc/self/limits).
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descriptorNotice, descriptorsNeeded, descriptorsPerConnection, openFilesLimit } from '../../src/edge/descriptorLimit.js';
import { loadConfig } from '../../src/config/load.js';
import { clientIdentity, httpsRequest, testPki } from '../support/edgeHarness.js';
import { startCli, stopCli, waitForLine, type EdgeProcess } from '../support/cliProcess.js';

const LIMITS = (soft: string): string =>
  [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max cpu time              unlimited            unlimited            seconds   ',
    `Max open files            ${soft.padEnd(21)}1048576              files     `,
    'Max processes             63431                63431                processes ',
    '',
  ].join('\n');

describe('descriptor limit: the open-files limit against max_connections', () => {
  const limits: [string, string | undefined, number | null][] = [
    ['a number', LIMITS('1024'), 1024],
    ['unlimited', LIMITS('unlimited'), Number.POSITIVE_INFINITY],
    ['no such line', 'Max processes 10 10 processes\n', null],
  ];
  for (const [name, text, expected] of limits) {
    it(`reads the soft open-files limit: ${name}`, () => {
      expect(openFilesLimit(text)).to.equal(expected);
    });
  }

  // [max_connections, limit, descriptors per connection, level, message]: 128 are reserved (64 admin connections, 64 others).
  const notices: [number, number | null, number, 'warn' | 'info' | null, RegExp | null, boolean?][] = [
    [10_000, 20_127, 2, 'info', /^max_connections 10000 needs about 20128 open files \(a client and an upstream socket per connection\), but this process may open 20127, so the edge caps connections at 9999\. To allow 10000, raise the limit before starting \(ulimit -n 20128\); to silence this, set max_connections to 9999 or less\.$/],
    [10_000, 20_000, 2, 'info', /caps connections at 9936\./],
    [10_000, 18_000, 2, 'warn', /caps connections at 8936\./],
    [10_000, 1024, 2, 'warn', /caps connections at 448\./],
    [10_000, 1024, 3, 'warn', /^max_connections 10000 needs about 30128 open files \(a client socket and two for the built-in echo per connection\), .* caps connections at 298\./],
    [10_000, 20_128, 2, null, null],
    [50, 256, 2, null, null],
    [50, 256, 3, 'warn', /caps connections at 42\./],
    [10_000, null, 2, null, null],
    [10_000, Number.POSITIVE_INFINITY, 3, null, null],
    // max_connections left at its default: the edge's own guess, lowered quietly (an info line).
    [10_000, 1024, 3, 'info', /caps connections at 298\./, true],
    [10_000, 20_000, 3, 'info', /caps connections at 6624\./, true],
  ];
  for (const [maxConnections, limit, per, level, expected, defaulted] of notices) {
    it(`max_connections ${maxConnections}${defaulted ? ' (the default)' : ''} under a limit of ${limit}, ${per} descriptors each: ${level ?? 'nothing'}`, () => {
      const n = descriptorNotice(maxConnections, limit, per, defaulted);
      if (expected === null) expect(n).to.equal(null);
      else {
        expect(n?.level).to.equal(level);
        expect(n?.message).to.match(expected);
      }
    });
  }

  it('knows whether max_connections was configured or is the default (a default is lowered quietly)', async () => {
    const { dir: pkiDir } = await testPki();
    const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-maxconn-'));
    try {
      writeFileSync(join(dir, 'a.yaml'), `pki_dir: ${pkiDir}\n`);
      writeFileSync(join(dir, 'b.yaml'), `pki_dir: ${pkiDir}\nmax_connections: 500\n`);
      expect((await loadConfig({ file: join(dir, 'a.yaml') })).maxConnectionsDefaulted).to.equal(true);
      expect((await loadConfig({ file: join(dir, 'b.yaml') })).maxConnectionsDefaulted).to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('needs two descriptors per connection (three through the built-in echo) plus a reserve', () => {
    expect(descriptorsPerConnection(false)).to.equal(2);
    expect(descriptorsPerConnection(true)).to.equal(3);
    expect(descriptorsNeeded(10_000, 2)).to.equal(20_128);
  });

  describe('the real CLI under ulimit -n 256 (Linux)', function () {
    this.timeout(60_000);
    let dir: string;
    let edge: EdgeProcess | null = null;

    before(async function () {
      if (!existsSync('/proc/self/limits')) this.skip();
      const { dir: pkiDir } = await testPki();
      dir = mkdtempSync(join(tmpdir(), 'mtls-edge-fds-'));
      // max_connections stays at its default (10,000), which 256 descriptors cannot hold.
      writeFileSync(join(dir, 'edge.yaml'), [`pki_dir: ${pkiDir}`, 'https_port: 0', 'http_port: false', 'bind: 127.0.0.1', 'admin: false', ''].join('\n'));
      edge = await startCli(['--config', join(dir, 'edge.yaml')], dir, [], { openFiles: 256 });
    });

    after(async () => {
      if (edge) await stopCli(edge);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('says at start the limit, the lowered cap and both fixes (info: max_connections is the default)', async () => {
      const line = JSON.parse(await waitForLine(edge!, /needs about \d+ open files/)) as { level: string; msg: string };
      expect(line.level).to.equal('info');
      // The default route is the built-in echo: three descriptors per connection, 128 reserved.
      expect(line.msg).to.include('this process may open 256, so the edge caps connections at 42.');
      expect(line.msg).to.include('(ulimit -n 30128)');
    });

    it('a flood past what the limit holds is refused at the lowered cap and logged, and the edge serves again after it', async () => {
      const sockets: net.Socket[] = [];
      try {
        // Idle TCP connections (no TLS bytes): 400 would be past 256 descriptors.
        for (let i = 0; i < 400; i++) {
          const s = net.connect({ host: '127.0.0.1', port: edge!.httpsPort });
          s.on('error', () => undefined);
          sockets.push(s);
        }
        await waitForLine(edge!, /over max_connections \(42\)/, 10_000);
      } finally {
        for (const s of sockets) s.destroy();
      }
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const reply = await httpsRequest(edge!.httpsPort, { identity: await clientIdentity('valid') });
          expect(reply.status).to.equal(200);
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect(edge!.child.exitCode).to.equal(null);
      expect(edge!.lines.filter((l) => /listener error/.test(l))).to.deep.equal([]);
    });
  });
});
