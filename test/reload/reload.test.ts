// Hot reload through the real CLI process: SIGHUP and file changes swap the configuration while a
// stream of mTLS requests keeps going, and a broken file keeps the running configuration.
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientIdentity, httpsRequest, testPki } from '../support/edgeHarness.js';
import { startCli, stopCli, waitForLine, type EdgeProcess } from '../support/cliProcess.js';

describe('hot reload (CLI process)', function () {
  this.timeout(60_000);
  let dir: string;
  let edge: EdgeProcess | null = null;

  before(async () => {
    const { pki } = await testPki();
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-reload-'));
    copyFileSync(pki.server.chain, join(dir, 'server.pem'));
    copyFileSync(pki.server.key, join(dir, 'server.key'));
    copyFileSync(pki.rootCa.cert, join(dir, 'trust.pem'));
    writeFileSync(
      join(dir, 'edge.yaml'),
      ['https_port: 0', 'http_port: false', 'bind: 127.0.0.1', 'admin: false', 'log: { format: json, access: "off" }', 'tls:', '  - cert: server.pem', '    key: server.key', '    trust: trust.pem', ''].join('\n'),
    );
    edge = await startCli(['--config', join(dir, 'edge.yaml')], dir);
  });

  after(async () => {
    if (edge) await stopCli(edge);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every request of a running stream through SIGHUP reloads and file changes', async () => {
    const identity = await clientIdentity('valid');
    const p = edge!;
    let ok = 0;
    const failures: string[] = [];
    let streaming = true;
    const stream = (async () => {
      for (let i = 0; streaming && i < 2000; i++) {
        try {
          const r = await httpsRequest(p.httpsPort, { identity });
          if (r.status === 200) ok++;
          else failures.push(`status ${r.status}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 150));
      p.child.kill('SIGHUP');
      await waitForLine(p, new RegExp(`configuration reloaded \\(SIGHUP\\)`));
      p.lines.length = 0;
    }
    // Rewrite the trust list in place (same content): the file watcher reloads.
    writeFileSync(join(dir, 'trust.pem'), readFileSync(join(dir, 'trust.pem')));
    await waitForLine(p, /configuration reloaded \(changed: .*trust\.pem/);
    await new Promise((r) => setTimeout(r, 150));
    streaming = false;
    await stream;
    expect(failures).to.deep.equal([]);
    expect(ok).to.be.greaterThan(5);
  });

  it('keeps the running configuration when a new file is broken, and says why', async () => {
    const p = edge!;
    p.lines.length = 0;
    writeFileSync(join(dir, 'trust.pem'), '-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n');
    const line = await waitForLine(p, /reload .* failed, keeping the running configuration/);
    expect(line).to.include('trust.pem');
    expect(line).to.match(/garbled or truncated/);
    const r = await httpsRequest(p.httpsPort, { identity: await clientIdentity('valid') });
    expect(r.status).to.equal(200);
  });
});
