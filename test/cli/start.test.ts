// `mtls-edge start` as a user runs it: the ready line with the ports, the try-it command for the dev
// PKI, expiry warnings at start, JSON logs when stdout is not a terminal, the admin endpoints, exit
// 0 after SIGTERM, and `--workers` forming a cluster.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clientIdentity, httpsRequest, testPki } from '../support/edgeHarness.js';
import { startCli, stopCli, waitForLine, type EdgeProcess } from '../support/cliProcess.js';

const run = promisify(execFile);

describe('CLI: mtls-edge start', function () {
  this.timeout(60_000);
  let dir: string;
  let edge: EdgeProcess | null = null;

  before(async () => {
    const { dir: pkiDir } = await testPki();
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-start-'));
    writeFileSync(
      join(dir, 'edge.yaml'),
      [`pki_dir: ${pkiDir}`, 'https_port: 0', 'http_port: 0', 'bind: 127.0.0.1', 'admin: { host: 127.0.0.1, port: 0 }', 'expiry_warning_days: 4000', ''].join('\n'),
    );
    edge = await startCli(['--config', join(dir, 'edge.yaml')], dir);
  });

  after(async () => {
    if (edge) await stopCli(edge);
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs JSON lines (stdout is not a terminal) with the ports, the mode and a curl command to try', async () => {
    const ready = JSON.parse(await waitForLine(edge!, /"mtls-edge ready"/)) as Record<string, string>;
    expect(ready.level).to.equal('info');
    expect(ready.https).to.match(/^https:\/\/localhost:\d+$/);
    expect(ready.http).to.match(/^http:\/\/localhost:\d+$/);
    expect(ready.mode).to.equal('sanitize_set');
    const tryIt = JSON.parse(await waitForLine(edge!, /try it: curl/)) as { msg: string };
    expect(tryIt.msg).to.match(/curl --cacert \S+root-ca\.crt --cert \S+client-chain\.crt --key \S+client\.key https:\/\/localhost:\d+\//);
  });

  it('the printed curl command works as printed', async () => {
    const line = JSON.parse(await waitForLine(edge!, /try it: curl/)) as { msg: string };
    const args = line.msg.replace(/^try it: curl /, '').split(' ');
    const { stdout } = await run('curl', ['-s', '--max-time', '10', ...args], { cwd: dir });
    const echo = JSON.parse(stdout) as { headers: [string, string][] };
    expect(echo.headers.find(([k]) => k === 'X-SSL-Client-Verify')?.[1]).to.equal('0');
  });

  it('warns at start about the server certificate and trust-list CAs that expire within expiry_warning_days', async () => {
    const server = await waitForLine(edge!, /Certificate expires in \d+ day\(s\).*server certificate/);
    expect(JSON.parse(server).level).to.equal('warn');
    await waitForLine(edge!, /Certificate expires in \d+ day\(s\).*trust list/);
  });

  it('serves /healthz, /status and /metrics on the admin port', async () => {
    const page = JSON.parse(await waitForLine(edge!, /flow page: http/)) as { msg: string };
    const base = /http:\/\/\S+/.exec(page.msg)![0].replace(/\/$/, '');
    expect(await (await fetch(`${base}/healthz`)).text()).to.match(/ok/);
    const status = (await (await fetch(`${base}/status`)).json()) as { tlsConfigs: { clientAuth: string; trustList: unknown[] }[] };
    expect(status.tlsConfigs[0].clientAuth).to.equal('optional');
    expect(status.tlsConfigs[0].trustList).to.have.length(1);
    expect(await (await fetch(`${base}/metrics`)).text()).to.match(/^mtls_edge_/m);
  });

  it('exits 0 after SIGTERM', async () => {
    expect(await stopCli(edge!)).to.equal(0);
    edge = null;
  });
});

describe('CLI: mtls-edge start --workers', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    const { dir: pkiDir } = await testPki();
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-workers-'));
    writeFileSync(join(dir, 'edge.yaml'), [`pki_dir: ${pkiDir}`, 'https_port: 0', 'http_port: 0', 'bind: 127.0.0.1', 'admin: false', ''].join('\n'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--workers 2: two cluster workers start from the configuration and serve, one ready banner; SIGTERM drains to exit 0', async () => {
    let edge: EdgeProcess | null = null;
    try {
      edge = await startCli(['--config', join(dir, 'edge.yaml'), '--workers', '2', '--log-level', 'debug'], dir);
      // Each worker says at debug level that it listens; the banner speaks for all of them, once.
      await waitForLine(edge, /"worker 1 listening"/, 10_000);
      await waitForLine(edge, /"worker 2 listening"/, 10_000);
      await waitForLine(edge, /try it: curl/);
      const ready = edge.lines.filter((l) => l.includes('"mtls-edge ready"'));
      expect(ready, edge.lines.join('\n')).to.have.length(1);
      expect(edge.lines.filter((l) => l.includes('try it: curl'))).to.have.length(1);
      const reply = await httpsRequest(edge.httpsPort, { identity: await clientIdentity('valid') });
      expect(reply.status).to.equal(200);
      expect(await stopCli(edge)).to.equal(0);
    } finally {
      if (edge) await stopCli(edge);
    }
  });
});

describe('CLI: bad invocations', function () {
  this.timeout(30_000);
  // A time limit: should an invocation start the edge after all, it does not outlive the test.
  const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => run(process.execPath, ['bin/mtls-edge.js', ...args], { env, timeout: 20_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

  it('an unknown flag: exit 2, named once as typed, and where the help is', async () => {
    const r = await cli(['start', '--htps-port', '1', '--bogus-flag']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal('mtls-edge: unknown arguments --htps-port, --bogus-flag\nRun `mtls-edge start --help` for usage.\n');
  });

  it('an unknown flag under a German locale: the same English message, named once', async () => {
    const r = await cli(['start', '--bogus-flag'], { ...process.env, LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8', LANGUAGE: 'de' });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal('mtls-edge: unknown argument --bogus-flag\nRun `mtls-edge start --help` for usage.\n');
  });

  it('options before the command: their values are not taken for the command', async () => {
    // The command runs (and stops at the missing file), rather than `unknown command "x.yaml"`.
    const r = await cli(['--config', 'missing-x.yaml', 'start']);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.not.include('unknown command');
    expect(r.stderr).to.include('missing-x.yaml: cannot read the configuration file (ENOENT)');
    const typo = await cli(['--config', 'missing-x.yaml', 'strat']);
    expect(typo.stderr).to.include('unknown command "strat"');
  });

  it('--config with no value or an empty one: exit 2 naming the flag, no edge started on the default', async () => {
    for (const args of [['start', '--https-port', '0', '--http-port', '0', '--config'], ['start', '--https-port', '0', '--http-port', '0', '--config', '']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr).to.equal('mtls-edge: --config "": --config needs a path, not an empty value (an unset variable in a script?)\n');
    }
  });

  it('a stray word: quoted, once', async () => {
    const r = await cli(['start', 'now']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal('mtls-edge: unknown argument "now"\nRun `mtls-edge start --help` for usage.\n');
  });

  it('a bad --client-auth value: exit 2 naming the choices', async () => {
    const r = await cli(['start', '--client-auth', 'sometimes']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/client-auth/).and.to.match(/disabled.*optional.*required/s);
  });

  // With --workers the primary used to fork worker 1, which failed on the same setting and was
  // forked again every 500 ms for ever: the file is refused before anything starts, once.
  for (const workers of [[], ['--workers', '2']]) {
    it(`an admin listener off loopback without a token${workers.length ? ` (${workers.join(' ')})` : ''}: exit 2, one configuration error naming the file, admin.host and the fix`, async () => {
      const { dir } = await testPki();
      const cfgDir = mkdtempSync(join(tmpdir(), 'mtls-edge-admin-cfg-'));
      try {
        const file = join(cfgDir, 'edge.yaml');
        writeFileSync(file, `https_port: 0\nhttp_port: false\npki_dir: ${dir}\nadmin: { host: 0.0.0.0, port: 0 }\n`);
        const env = { ...process.env };
        delete env.MTLS_EDGE_ADMIN_TOKEN;
        const r = await cli(['start', '--config', file, ...workers], env);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(/^mtls-edge: configuration error:\n {2}\S+edge\.yaml: admin\.host: 0\.0\.0\.0 is not loopback, and no admin token is set: set MTLS_EDGE_ADMIN_TOKEN/);
        expect(r.stderr.match(/is not loopback/g), r.stderr).to.have.length(1);
        expect(r.stdout + r.stderr).to.not.include('starting it again');
      } finally {
        rmSync(cfgDir, { recursive: true, force: true });
      }
    });
  }

  it('a short MTLS_EDGE_ADMIN_TOKEN: exit 2 naming the variable', async () => {
    const { dir } = await testPki();
    const r = await cli(['start', '--pki-dir', dir, '--bind', '127.0.0.1', '--https-port', '0', '--http-port', '-1', '--admin-port', '0', '--workers', '2'], { ...process.env, MTLS_EDGE_ADMIN_TOKEN: 'short' });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.match(/^mtls-edge: configuration error:\n {2}MTLS_EDGE_ADMIN_TOKEN: too short: use at least 16 characters/);
  });

  /** Runs `start` with its HTTPS port held by another listener, which is closed after. */
  const startOnBusyPort = async (extra: string[]): Promise<{ port: number; r: Awaited<ReturnType<typeof cli>> }> => {
    const { dir } = await testPki();
    const net = await import('node:net');
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      return { port, r: await cli(['start', '--pki-dir', dir, '--bind', '127.0.0.1', '--https-port', String(port), '--http-port', '-1', '--no-admin', ...extra]) };
    } finally {
      blocker.close();
    }
  };

  it('a port already in use: exit 1 with the fix', async () => {
    const { port, r } = await startOnBusyPort([]);
    expect(r.code).to.equal(1);
    expect(r.stdout + r.stderr).to.match(new RegExp(`port ${port} .*already in use \\(EADDRINUSE\\).*--https-port \\(https_port in the configuration\\)`));
  });

  it('a port already in use under --workers 2: every worker fails before it is ready, the edge exits 1 and says why, not a restart for ever', async () => {
    const { port, r } = await startOnBusyPort(['--workers', '2']);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout + r.stderr).to.match(new RegExp(`port ${port} .*already in use \\(EADDRINUSE\\)`));
    expect(r.stderr).to.match(/mtls-edge: worker \d exited 5 times in a row before it was ready \(last: 1\); stopping the edge: its messages above say why/);
  });
});
