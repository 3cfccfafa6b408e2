// `mtls-edge export haproxy` as a user runs it (issue 22): the files it writes and their modes, no
// key material on the terminal, existing files kept without --force, bad input named with its fix,
// and what HAProxy cannot do listed in haproxy.cfg. Whether HAProxy behaves like the edge with these
// files is the parity suite's (test/parity/parity.test.ts runs this export in real HAProxy).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testCrls, testPki } from '../support/edgeHarness.js';

const run = promisify(execFile);
const cliPath = join(process.cwd(), 'bin/mtls-edge.js');

const exportTo = (target: 'haproxy' | 'nginx', args: string[], cwd: string) =>
  run(process.execPath, [cliPath, 'export', target, ...args], { cwd, timeout: 30_000 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
const exportHaproxy = (args: string[], cwd: string) => exportTo('haproxy', args, cwd);

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
    expect(cfg).to.include(`bind 127.0.0.1:9443 ssl crt-list ${out}/crt-list ca-file ${out}/ca-file-0.pem verify optional crt-ignore-err 10,18 ca-ignore-err 10,18`);
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

  it('a route tls.ca file that also holds the CA key: no PRIVATE KEY in any file others can read, from either export', async () => {
    const { pki } = await testPki();
    // As ~/.mitmproxy/mitmproxy-ca.pem: the key first, then the certificate.
    const caWithKey = join(dir, 'ca-with-key.pem');
    writeFileSync(caWithKey, readFileSync(pki.rootCa.key, 'latin1') + readFileSync(pki.rootCa.cert, 'latin1'));
    const setting = join(dir, 'ca-with-key.yaml');
    writeFileSync(setting, JSON.stringify({
      https_port: 9443, http_port: 9080,
      tls: [{ cert: pki.server.chain, key: pki.server.key, trust: caWithKey }],
      routes: [{ upstream: 'https://127.0.0.1:9999', tls: { ca: caWithKey, cert: pki.client.cert, key: pki.client.key } }],
    }));
    for (const target of ['haproxy', 'nginx'] as const) {
      const r = await exportTo(target, ['--config', setting, '--out', `leak-${target}`], dir);
      expect(r.code, r.out).to.equal(0);
      const out = join(dir, `leak-${target}`);
      for (const name of readdirSync(out)) {
        const mode = statSync(join(out, name)).mode & 0o777;
        if (mode !== 0o600) expect(readFileSync(join(out, name), 'latin1'), `${target}: ${name} (${mode.toString(8)})`).to.not.match(/PRIVATE KEY/);
      }
    }
    const backendCa = readFileSync(join(dir, 'leak-haproxy', 'backend-ca-0.pem'), 'latin1');
    expect(backendCa).to.equal(readFileSync(pki.rootCa.cert, 'latin1').replace(/\r\n/g, '\n').trim() + '\n');
    expect(readFileSync(join(dir, 'leak-haproxy', 'backend-crt-0.pem'), 'latin1')).to.match(/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\n-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+KEY-----\n$/);
    // No certificate in the CA file: said, not written as an empty file HAProxy refuses.
    const keyOnly = join(dir, 'key-only.pem');
    writeFileSync(keyOnly, readFileSync(pki.rootCa.key));
    writeFileSync(setting, JSON.stringify({ https_port: 9443, http_port: false, routes: [{ upstream: 'https://127.0.0.1:9999', tls: { ca: keyOnly } }] }));
    const bad = await exportHaproxy(['--config', setting, '--out', 'leak-bad'], dir);
    expect(bad.code, bad.out).to.equal(2);
    expect(bad.out).to.include('routes[0].tls.ca: no PEM certificate');
  });

  it('--force removes only files an export writes and only unchanged ones; the manifest holds their SHA-256', async () => {
    const { pki } = await testPki();
    const two = join(dir, 'two.yaml');
    writeFileSync(two, JSON.stringify({
      https_port: 9443, http_port: false,
      tls: [{ cert: pki.server.chain, key: pki.server.key, trust: pki.rootCa.cert, hosts: ['a.localhost'] }, { cert: pki.server.chain, key: pki.server.key, trust: pki.rootCa.cert, hosts: ['b.localhost'] }],
    }));
    const one = join(dir, 'one.yaml');
    writeFileSync(one, JSON.stringify({ https_port: 9443, http_port: false, tls: [{ cert: pki.server.chain, key: pki.server.key }] }));
    const out = join(dir, 'manifest');
    expect((await exportHaproxy(['--config', two, '--out', 'manifest'], dir)).code).to.equal(0);
    const manifest = readFileSync(join(out, '.mtls-edge-export'), 'utf8').split('\n').filter(Boolean);
    for (const line of manifest) {
      const [hash, name] = line.split('  ');
      expect(hash, name).to.equal(createHash('sha256').update(readFileSync(join(out, name!))).digest('hex'));
    }
    expect(manifest.map((l) => l.split('  ')[1]).sort()).to.deep.equal(['ca-file-0.pem', 'ca-file-1.pem', 'cert-0.pem', 'cert-1.pem', 'crt-list', 'haproxy.cfg']);
    // A hand-edited manifest that names files no export writes; a changed export file.
    writeFileSync(join(out, 'Makefile'), 'all: ;\n');
    writeFileSync(join(out, '.env'), 'SECRET=1\n');
    writeFileSync(join(out, 'ca-file-1.pem'), 'edited by hand\n');
    writeFileSync(join(out, '.mtls-edge-export'), `${manifest.join('\n')}\nMakefile\n${'0'.repeat(64)}  .env\n../outside\n`);
    const r = await exportHaproxy(['--config', one, '--out', 'manifest', '--force'], dir);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/removed what the earlier export wrote and this one does not: ca-file-0\.pem, cert-1\.pem\n/);
    expect(r.out).to.include('kept, not as the earlier export wrote it (remove it yourself if it is stale): ca-file-1.pem (changed)');
    expect(r.out).to.include('.mtls-edge-export also named Makefile, .env, "../outside": not a file an export writes, left alone');
    const names = readdirSync(out);
    for (const n of ['Makefile', '.env', 'ca-file-1.pem']) expect(names, n).to.include(n);
    expect(names).to.not.include('cert-1.pem');
    expect(names).to.not.include('ca-file-0.pem');
    // A manifest of an earlier version (names only): nothing it names is removed unseen.
    writeFileSync(join(out, 'key-7.pem'), 'stale\n');
    writeFileSync(join(out, '.mtls-edge-export'), 'key-7.pem\nhaproxy.cfg\n');
    const old = await exportHaproxy(['--config', one, '--out', 'manifest', '--force'], dir);
    expect(old.code, old.out).to.equal(0);
    expect(old.out).to.include('key-7.pem (no checksum in the manifest)');
    expect(readdirSync(out)).to.include('key-7.pem');
  });
});
