// docker-compose.yml cannot be run here (no Docker engine), so its wiring is checked statically:
// every file and folder it names exists, every port it maps or dials is one something listens on,
// the services run as non-root with health checks, and the host name its curl line uses is one the
// dev server certificate names. What can run without Docker does: its edge configuration, moved
// to loopback, answers the compose file's own curl line and health check.
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { ADMIN_TOKEN_ENV, isLoopbackBind } from '../../src/observe/adminAccess.js';
import { ensureDevPki } from '../../src/pki/devPki.js';
import { startCli, stopCli, waitForLine, type EdgeProcess } from '../support/cliProcess.js';

const run = promisify(execFile);

const root = process.cwd();
interface Service {
  build?: string;
  image?: string;
  command?: string[];
  user?: string;
  ports?: string[];
  healthcheck?: { test?: string[] };
  expose?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
}

/** A compose value with `${VAR:-default}` / `${VAR:?message}` read as the default (or empty). */
const withDefaults = (v: string): string => v.replace(/\$\{\w+(?::-([^}]*)|:\?[^}]*)?\}/g, (_, d: string | undefined) => d ?? '');

/** The host names of the `https://…` addresses in the comment lines at the top of docker-compose.yml. */
const commentedHosts = (text: string): string[] =>
  [...text.matchAll(/^#.*https:\/\/([^/:\s]+)/gm)].map((m) => m[1]!);

/** The lines at the top of the compose file that say what to run, without their `#   `. */
const commentedCommands = (text: string): string[] =>
  text.split('\n').filter((l) => l.startsWith('#   ')).map((l) => l.slice(4));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('docker-compose.yml', () => {
  const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
  const compose = parse(composeText) as { services: Record<string, Service> };
  const services = compose.services;
  const edgeVolume = services.edge.volumes!.find((v) => v.endsWith(':/config/edge.yaml:ro'))!;
  const edgeConfig = configSchema.parse(parse(readFileSync(join(root, edgeVolume.split(':')[0]), 'utf8')));

  it('has the edge, the echo upstream and the example app', () => {
    expect(Object.keys(services)).to.include.members(['edge', 'echo', 'app']);
    expect(services.edge.depends_on).to.deep.equal({ echo: { condition: 'service_healthy' }, app: { condition: 'service_healthy' } });
  });

  it('names only files that exist (the certs folder is made by the edge on first start)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) expect(existsSync(join(root, s.build, 'Dockerfile')), `${name}: Dockerfile`).to.equal(true);
      for (const v of s.volumes ?? []) {
        const host = v.split(':')[0];
        if (host === './certs') {
          expect(edgeConfig.pki_dir).to.equal('/certs');
          continue;
        }
        expect(existsSync(join(root, host)), `${name}: volume ${host}`).to.equal(true);
      }
    }
    const appCommand = services.app.command!;
    expect(existsSync(join(root, 'examples/app', appCommand[1]))).to.equal(true);
  });

  it('maps the ports the edge configuration listens on', () => {
    const published = services.edge.ports!.map((p) => Number(p.split(':')[2]));
    expect(published).to.include.members([edgeConfig.https_port, edgeConfig.http_port as number]);
    expect(edgeConfig.admin).to.not.equal(false);
    if (edgeConfig.admin !== false) expect(published).to.include(edgeConfig.admin.port);
  });

  it('publishes on the host loopback only, and gives the off-loopback admin listener its token', () => {
    for (const p of services.edge.ports!) expect(p, 'host address of a published port').to.match(/^127\.0\.0\.1:\d+:\d+$/);
    if (edgeConfig.admin !== false && !isLoopbackBind(edgeConfig.admin.host)) {
      expect(edgeConfig.admin.token, 'no token committed in the example config').to.equal(undefined);
      // Compose refuses to start (with this message) when the variable is not set.
      expect(services.edge.environment?.[ADMIN_TOKEN_ENV]).to.match(/^\$\{MTLS_EDGE_ADMIN_TOKEN:\?set MTLS_EDGE_ADMIN_TOKEN first/);
    }
  });

  it('routes to ports the echo and app services listen on', () => {
    const echoPort = services.echo.command![services.echo.command!.indexOf('--port') + 1];
    const appPort = services.app.environment!.PORT;
    const upstreams = (edgeConfig.routes ?? []).map((r) => r.upstream);
    expect(upstreams).to.include(`http://echo:${echoPort}`);
    expect(upstreams).to.include(`http://app:${appPort}`);
    expect(services.echo.expose).to.include(echoPort);
    expect(services.app.expose).to.include(appPort);
  });

  it('builds an image whose entrypoint is the CLI', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).to.match(/^FROM node:20/m);
    expect(dockerfile).to.include('bin/mtls-edge.js');
    for (const copied of dockerfile.matchAll(/^COPY (\S+(?: \S+)*) \S+$/gm)) {
      for (const f of copied[1].split(' ')) expect(existsSync(join(root, f)), `Dockerfile COPY ${f}`).to.equal(true);
    }
  });
  it('gives every service a health check run by node (the images have no curl); the edge\'s asks /healthz', () => {
    for (const [name, s] of Object.entries(services)) {
      const test = s.healthcheck?.test ?? [];
      expect(test.slice(0, 3), `${name}: healthcheck`).to.deep.equal(['CMD', 'node', '-e']);
    }
    const admin = edgeConfig.admin !== false ? edgeConfig.admin.port : null;
    expect(services.edge.healthcheck!.test![3]).to.include(`http://127.0.0.1:${admin}/healthz`);
  });

  it('runs every service as a user other than root, the image too', () => {
    for (const [name, s] of Object.entries(services)) {
      const user = withDefaults(s.user ?? 'root');
      expect(user, `${name}: user`).to.not.match(/^(root|0)(:|$)/);
    }
    // The edge writes the dev PKI into ./certs as the host user the comment exports.
    expect(services.edge.user).to.equal('${HOST_UID:-1000}:${HOST_GID:-1000}');
    expect(commentedCommands(composeText)).to.include('export HOST_UID=$(id -u) HOST_GID=$(id -g)');
    expect(commentedCommands(composeText)).to.include('mkdir -p certs');
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users, 'Dockerfile USER').to.deep.equal(['node']);
    expect(dockerfile.indexOf('USER node')).to.be.greaterThan(dockerfile.lastIndexOf('RUN '));
    const instructions = dockerfile.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    expect(instructions, 'no openssl: the PKI is made in-process').to.not.match(/openssl/i);
  });

  it('curls host names the dev server certificate of `certs init` names (OpenSSL matches no *.localhost for them)', async () => {
    const hosts = [...commentedHosts(composeText), ...(edgeConfig.routes ?? []).map((r) => r.host).filter((h) => h !== '*')];
    expect(hosts).to.include('app.localhost');
    const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-compose-pki-'));
    try {
      const { pki } = await ensureDevPki(dir);
      const cert = new X509Certificate(readFileSync(pki.server.cert));
      for (const host of hosts) expect(cert.checkHost(host), `${host} is a SAN of certs/server.crt`).to.equal(host);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('its edge configuration on loopback', () => {
    let dir = '';
    let app: ChildProcess | null = null;
    let edge: EdgeProcess | null = null;
    let adminPort = 0;

    before(async function () {
      this.timeout(60_000);
      dir = mkdtempSync(join(tmpdir(), 'mtls-edge-compose-'));
      const appPort = await freePort();
      app = spawn(process.execPath, [join(root, 'examples/app/server.js')], { env: { ...process.env, PORT: String(appPort), HOST: '127.0.0.1' }, stdio: 'ignore' });
      // What differs from the container: loopback, free ports, the PKI in ./certs of this folder,
      // upstreams on 127.0.0.1 (the echo service is the built-in echo).
      const yaml = parse(readFileSync(join(root, 'examples/docker/edge.yaml'), 'utf8')) as Record<string, unknown>;
      const routes = (yaml.routes as { host: string; upstream: string }[]).map((r) => ({
        ...r,
        upstream: r.upstream.startsWith('http://app:') ? `http://127.0.0.1:${appPort}` : 'echo',
      }));
      writeFileSync(join(dir, 'edge.yaml'), stringify({ ...yaml, bind: '127.0.0.1', https_port: 0, http_port: 0, pki_dir: 'certs', routes, admin: { host: '127.0.0.1', port: 0 } }));
      edge = await startCli(['--config', join(dir, 'edge.yaml')], dir);
      adminPort = Number(/"admin":"127\.0\.0\.1:(\d+)"/.exec(await waitForLine(edge, /flow page: http/))![1]);
    });

    after(async () => {
      if (edge) await stopCli(edge);
      app?.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers the curl line of the compose comment from the example app', async () => {
      const line = commentedCommands(composeText).find((l) => l.startsWith('curl '))!;
      const args = line.replace(/^curl /, '').replace(':8443/', `:${edge!.httpsPort}/`).split(' ');
      // The app may still be starting: a bounded number of tries.
      let body = '';
      for (let i = 0; i < 50 && !body.includes('"hello"'); i++) {
        body = (await run('curl', ['-s', '--max-time', '10', ...args], { cwd: dir })).stdout;
        if (!body.includes('"hello"')) await new Promise((r) => setTimeout(r, 100));
      }
      expect(JSON.parse(body)).to.deep.include({ hello: 'dev-client' });
    });

    it('passes the edge health check as compose runs it', async () => {
      const [, node, flag, script] = services.edge.healthcheck!.test!;
      expect(node).to.equal('node');
      const admin = edgeConfig.admin !== false ? edgeConfig.admin.port : 0;
      const { stdout } = await run(process.execPath, [flag!, script!.replace(`:${admin}/`, `:${adminPort}/`)]);
      expect(stdout).to.equal('');
    });
  });
});
