// `start` loads its configuration in a short-lived child (src/config/loaderProcess.ts): the edge
// gets the same configuration as an in-process load, errors come back the same, the running edge
// never imports yargs, YAML or zod, and `--workers` still forms a cluster (the loader is not one of
// its workers).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/configError.js';
import { fromWire, toWire } from '../../src/config/loadedWire.js';
import { decodeReply, encodeReply, loadConfigInChild, LOADER_ENV } from '../../src/config/loaderProcess.js';
import { testPki, clientIdentity, httpsRequest } from '../support/edgeHarness.js';
import { importLogHook } from '../support/importLog.js';
import { startCli, stopCli, waitForLine, type EdgeProcess } from '../support/cliProcess.js';

const run = promisify(execFile);

/** What the edge uses of a loaded configuration, in comparable form. */
function essentials(l: LoadedConfig): unknown {
  return {
    config: l.config,
    profiles: l.resolved.tlsProfiles.map((p) => ({
      ...p,
      serverCert: p.serverCert.fingerprint256,
      trustCerts: p.trustCerts.map((c) => c.fingerprint256),
      ignore: p.ignore === 'all' ? 'all' : [...p.ignore],
    })),
    routes: l.resolved.routes,
    userMappings: l.resolved.userMappings,
    devPki: l.resolved.devPki,
    files: l.resolved.files,
  };
}

describe('CLI: the configuration loader child', function () {
  this.timeout(60_000);
  let dir: string;
  let pkiDir: string;
  before(async () => {
    ({ dir: pkiDir } = await testPki());
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-loader-'));
    writeFileSync(
      join(dir, 'edge.yaml'),
      [
        `pki_dir: ${pkiDir}`,
        'https_port: 0',
        'http_port: 0',
        'bind: 127.0.0.1',
        'admin: false',
        'tls:',
        `  - cert: ${pkiDir}/server-chain.crt`,
        `    key: ${pkiDir}/server.key`,
        `    trust: [${pkiDir}/ca/root-ca.crt]`,
        '    ignore_errors: "10,18"',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'broken.yaml'), ['https_port: "many"', 'no_such_key: 1', 'tls:', '  - cert: /nonexistent/server.crt', ''].join('\n'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('survives the trip between processes unchanged (tagged JSON, certificates as DER)', async () => {
    const loaded = await loadConfig({ file: join(dir, 'edge.yaml') });
    const arrived = fromWire(decodeReply(encodeReply(toWire(loaded))) as ReturnType<typeof toWire>);
    expect(essentials(arrived)).to.deep.equal(essentials(loaded));
    expect(Buffer.isBuffer(arrived.resolved.tlsProfiles[0]!.keyPem)).to.equal(true);
  });

  const WIRE_VALUES: ReadonlyArray<{ name: string; value: unknown }> = [
    { name: 'a Buffer', value: Buffer.from([0, 1, 2, 255]) },
    { name: 'an empty Buffer', value: Buffer.alloc(0) },
    { name: 'a Set of numbers', value: new Set([10, 18]) },
    { name: 'Buffers in arrays and objects', value: { crl: [Buffer.from('a'), Buffer.from('b')], nested: { key: Buffer.from('k') } } },
    { name: 'a Set inside an object next to plain data', value: { ignore: new Set([20]), name: 'x', n: 1, none: null, list: [1, 'two'] } },
    { name: 'objects that look like Buffers to JSON', value: { type: 'Buffer', data: [1, 2] } },
    { name: 'a key whose value is undefined', value: { tls: undefined, name: 'r' } },
    { name: 'an array with holes filled by undefined (as JSON: null)', value: [1, null] },
  ];
  for (const row of WIRE_VALUES) {
    it(`the reply codec carries ${row.name} unchanged`, () => {
      expect(decodeReply(encodeReply(row.value))).to.deep.equal(row.value);
    });
  }

  it('an exported MTLS_EDGE_CONFIG_LOADER alone does not make a process a loader; with the reply pipe it does', async () => {
    const probe = `import(${JSON.stringify(pathToFileURL(join(process.cwd(), 'dist/src/config/loaderProcess.js')).href)}).then((m) => process.stdout.write(String(m.isLoaderProcess())))`;
    const env = { ...process.env, [LOADER_ENV]: '1' };
    const alone = await run(process.execPath, ['-e', probe], { env });
    expect(alone.stdout).to.equal('false');
    const { spawn } = await import('node:child_process');
    const withPipe = await new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ['-e', probe], { env, stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
      let out = '';
      c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      c.once('error', reject);
      c.once('close', () => resolve(out));
    });
    expect(withPipe).to.equal('true');
  });

  it('loads in a child exactly what an in-process load gives', async () => {
    const [inChild, inProcess] = await Promise.all([loadConfigInChild({ file: join(dir, 'edge.yaml') }), loadConfig({ file: join(dir, 'edge.yaml') })]);
    expect(essentials(inChild)).to.deep.equal(essentials(inProcess));
  });

  it('reports every problem of a broken file, as an in-process load does', async () => {
    const problems = async (load: () => Promise<unknown>): Promise<unknown> =>
      load().then(
        () => 'loaded',
        (e: unknown) => (e instanceof ConfigError ? e.problems : `not a ConfigError: ${String(e)}`),
      );
    const fromChild = await problems(() => loadConfigInChild({ file: join(dir, 'broken.yaml') }));
    expect(fromChild).to.deep.equal(await problems(() => loadConfig({ file: join(dir, 'broken.yaml') })));
    expect(fromChild).to.be.an('array').with.length.greaterThan(1);
  });

  it('keeps yargs, YAML and zod out of the running edge (the loader child imported them)', async () => {
    const log = join(dir, 'imports.log');
    const edge = await startCli(['--config', join(dir, 'edge.yaml')], dir, ['--import', importLogHook(dir, log)]);
    try {
      const reply = await httpsRequest(edge.httpsPort, { identity: await clientIdentity('valid') });
      expect(reply.status).to.equal(200);
      const imported = readFileSync(log, 'utf8').split('\n');
      expect(imported.some((u) => u.includes('/dist/src/edge/edge.js'))).to.equal(true);
      expect(imported.filter((u) => /node_modules\/(yargs|yaml|zod)\//.test(u))).to.deep.equal([]);
    } finally {
      await stopCli(edge);
    }
  });

  it('--workers 2: two cluster workers start from the loaded configuration and serve; SIGTERM drains to exit 0', async () => {
    let edge: EdgeProcess | null = null;
    try {
      edge = await startCli(['--config', join(dir, 'edge.yaml'), '--workers', '2'], dir);
      await waitForLine(edge, /"mtls-edge ready"[\s\S]*/, 10_000);
      const deadline = Date.now() + 10_000;
      while (edge.lines.filter((l) => l.includes('"mtls-edge ready"')).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(edge.lines.filter((l) => l.includes('"mtls-edge ready"'))).to.have.length(2);
      const reply = await httpsRequest(edge.httpsPort, { identity: await clientIdentity('valid') });
      expect(reply.status).to.equal(200);
      expect(await stopCli(edge)).to.equal(0);
    } finally {
      if (edge) await stopCli(edge);
    }
  });

  it('`start --help` and a bad flag are answered by the loader with the usual exit codes', async () => {
    const bin = join(process.cwd(), 'bin/mtls-edge.js');
    const help = await run(process.execPath, [bin, 'start', '--help']);
    expect(help.stdout).to.match(/--forwarded-client-cert/);
    const bad = await run(process.execPath, [bin, 'start', '--bogus-flag']).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad?.code).to.equal(2);
    expect(bad?.stderr).to.match(/Unknown arguments?: bogus-flag/);
  });
});
