// Hot reload through the real CLI process: SIGHUP and file changes swap the configuration while a
// stream of mTLS requests keeps going, and a broken file keeps the running configuration.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientIdentity, httpsRequest, testPki } from '../support/edgeHarness.js';

interface EdgeProcess {
  child: ChildProcess;
  lines: string[];
  httpsPort: number;
}

function startCli(args: string[], cwd: string): Promise<EdgeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(process.cwd(), 'bin/mtls-edge.js'), 'start', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const timer = setTimeout(() => reject(new Error(`edge did not get ready: ${lines.join('\n')}`)), 15_000);
    const onLine = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(line);
        const m = /"https":"https:\/\/localhost:(\d+)"/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve({ child, lines, httpsPort: Number(m[1]) });
        }
      }
    };
    child.stdout!.on('data', onLine);
    child.stderr!.on('data', onLine);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`edge exited with ${code}: ${lines.join('\n')}`));
    });
  });
}

async function waitForLine(p: EdgeProcess, re: RegExp, ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = p.lines.find((l) => re.test(l));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no log line matching ${re} within ${ms} ms:\n${p.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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
    if (edge && edge.child.exitCode === null) {
      const exited = new Promise((r) => edge!.child.once('exit', r));
      edge.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      edge.child.kill('SIGKILL');
    }
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
