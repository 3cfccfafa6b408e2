// `mtls-edge export haproxy` as a user runs it (issue 22): the files it writes and their modes, no
// key material on the terminal, existing files kept without --force, bad input named with its fix,
// and what HAProxy cannot do listed in haproxy.cfg. Whether HAProxy behaves like the edge with these
// files is the parity suite's (test/parity/parity.test.ts runs this export in real HAProxy).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testCrls, testPki } from '../support/edgeHarness.js';

const run = promisify(execFile);
const cliPath = join(process.cwd(), 'bin/mtls-edge.js');

const exportHaproxy = (args: string[], cwd: string) =>
  run(process.execPath, [cliPath, 'export', 'haproxy', ...args], { cwd, timeout: 30_000 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

describe('mtls-edge export haproxy', function () {
  this.timeout(60_000);
  let dir = '';
  let config = '';

  before(async () => {
    const { pki } = await testPki();
    const crls = await testCrls();
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-export-'));
    config = join(dir, 'edge.yaml');
    writeFileSync(config, JSON.stringify({
      https_port: 9443,
      http_port: false,
      forwarded_client_cert: 'forward_only',
      explain_rejections: true,
      tls: [
        { cert: pki.server.chain, key: pki.server.key, trust: pki.rootCa.cert, crl: crls.all, client_auth: 'required', hosts: ['api.localhost'], ignore_errors: '10,18' },
        { cert: pki.server.chain, key: pki.server.key, hosts: ['www.localhost', '*.apps.localhost'] },
      ],
      routes: [{ host: '*.apps.localhost', path: '/v1', upstream: 'https://127.0.0.1:9000' }, { upstream: 'http://127.0.0.1:3000' }],
    }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes haproxy.cfg, the crt-list, cert/CA/CRL files (keys 0600), prints no key, and lists what HAProxy cannot do', async () => {
    const r = await exportHaproxy(['--config', config, '--out', 'out'], dir);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.not.match(/PRIVATE KEY/);
    const out = join(dir, 'out');
    for (const f of ['cert-0.pem', 'cert-1.pem']) {
      expect(statSync(join(out, f)).mode & 0o777, f).to.equal(0o600);
      expect(readFileSync(join(out, f), 'utf8')).to.match(/BEGIN CERTIFICATE[\s\S]+PRIVATE KEY/);
    }
    expect(readFileSync(join(out, 'crl-file-0.pem'), 'utf8').match(/BEGIN X509 CRL/g)).to.have.length(2);
    expect(readFileSync(join(out, 'crt-list'), 'utf8').split('\n')).to.deep.equal([
      `${out}/cert-0.pem [ca-file ${out}/ca-file-0.pem crl-file ${out}/crl-file-0.pem verify required alpn http/1.1] api.localhost`,
      `${out}/cert-1.pem [verify none alpn http/1.1] www.localhost *.apps.localhost`,
      '',
    ]);
    const cfg = readFileSync(join(out, 'haproxy.cfg'), 'utf8');
    expect(cfg).to.match(/^# What mtls-edge does/);
    expect(cfg).to.include('#   - explain_rejections:');
    expect(cfg).to.include('#   - disable_client_auth_fronting:');
    expect(cfg).to.include(`bind 0.0.0.0:9443 ssl crt-list ${out}/crt-list ca-file ${out}/ca-file-0.pem verify optional crt-ignore-err 10,18 ca-ignore-err 10,18`);
    expect(cfg).to.include('http-request del-header X-SSL-Client-Verify     if ! { ssl_c_used }'.replace(/ +/g, ' '));
    expect(cfg).to.not.include('frontend http-in');
    expect(cfg).to.include('acl route0_0 hdr(host),host_only,lower -m end .apps.localhost');
    expect(cfg).to.include('server route0 127.0.0.1:9000 ssl verify required ca-file @system-ca sni str(127.0.0.1) verifyhost 127.0.0.1');
    expect(cfg).to.include('default_backend route1');
  });

  it('keeps existing files unless --force, naming them', async () => {
    const r = await exportHaproxy(['--config', config, '--out', 'kept'], dir);
    expect(r.code, r.out).to.equal(0);
    writeFileSync(join(dir, 'kept', 'haproxy.cfg'), 'mine\n');
    const again = await exportHaproxy(['--config', config, '--out', 'kept'], dir);
    expect(again.code).to.equal(2);
    expect(again.out).to.match(/already holds haproxy\.cfg, .*--force/);
    expect(readFileSync(join(dir, 'kept', 'haproxy.cfg'), 'utf8')).to.equal('mine\n');
    const forced = await exportHaproxy(['--config', config, '--out', 'kept', '--force'], dir);
    expect(forced.code, forced.out).to.equal(0);
    expect(readFileSync(join(dir, 'kept', 'haproxy.cfg'), 'utf8')).to.match(/^# What/);
  });

  it('--haproxy-version 2.6 leaves the Root-CA-DN line out and says so', async () => {
    const { pki } = await testPki();
    const setting = join(dir, 'sanitize.yaml');
    writeFileSync(setting, JSON.stringify({ tls: [{ cert: pki.server.chain, key: pki.server.key, trust: pki.rootCa.cert }] }));
    const cfgOf = async (out: string, version: string): Promise<string> => {
      const r = await exportHaproxy(['--config', setting, '--out', out, '--haproxy-version', version], dir);
      expect(r.code, r.out).to.equal(0);
      return readFileSync(join(dir, out, 'haproxy.cfg'), 'utf8');
    };
    const old = await cfgOf('old', '2.6');
    expect(old).to.include('#   - X-SSL-Client-Root-CA-DN is not set');
    expect(old).to.include('set-header X-SSL-Client-Issuer-DN %{+Q}[ssl_c_i_dn,base64] if { ssl_c_used }');
    expect(old).to.not.include('set-header X-SSL-Client-Root-CA-DN');
    expect(await cfgOf('new', '3.2')).to.include('set-header X-SSL-Client-Root-CA-DN %{+Q}[ssl_c_r_dn,base64] if { ssl_c_used }');
  });

  it('bad input: a host that cannot go into a crt-list, an unknown version, a bad config — one line each, exit 2', async () => {
    const bad = join(dir, 'bad.yaml');
    const { pki } = await testPki();
    writeFileSync(bad, JSON.stringify({ tls: [{ cert: pki.server.chain, key: pki.server.key, hosts: ['evil.localhost [verify none]'] }] }));
    const host = await exportHaproxy(['--config', bad, '--out', 'bad'], dir);
    expect(host.code).to.equal(2);
    expect(host.out).to.include('tls[0].hosts[0]: "evil.localhost [verify none]" cannot be written into haproxy.cfg');
    const version = await exportHaproxy(['--config', config, '--out', 'v', '--haproxy-version', 'latest'], dir);
    expect(version.code).to.equal(2);
    expect(version.out).to.include('--haproxy-version: "latest" is not a version');
    writeFileSync(bad, 'forwarded_client_cert: nope\n');
    const cfg = await exportHaproxy(['--config', bad, '--out', 'bad2'], dir);
    expect(cfg.code).to.equal(2);
    expect(cfg.out).to.match(/configuration error:\n.*forwarded_client_cert: must be one of/);
  });
});
