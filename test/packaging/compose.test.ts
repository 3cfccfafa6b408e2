// docker-compose.yml cannot be run here (no Docker engine), so its wiring is checked statically:
// every file and folder it names exists, and every port it maps or dials is one something listens on.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { ADMIN_TOKEN_ENV, isLoopbackBind } from '../../src/observe/adminAccess.js';

const root = process.cwd();
interface Service {
  build?: string;
  image?: string;
  command?: string[];
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: string[];
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
  const services = compose.services;
  const edgeVolume = services.edge.volumes!.find((v) => v.endsWith(':/config/edge.yaml:ro'))!;
  const edgeConfig = configSchema.parse(parse(readFileSync(join(root, edgeVolume.split(':')[0]), 'utf8')));

  it('has the edge, the echo upstream and the example app', () => {
    expect(Object.keys(services)).to.include.members(['edge', 'echo', 'app']);
    expect(services.edge.depends_on).to.include.members(['echo', 'app']);
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
});
