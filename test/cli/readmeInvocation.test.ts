// How the README runs the CLI (issue 21 item 12): in the checkout, `node bin/mtls-edge.js` and
// `npm start -- …`, never `npx mtls-edge <command>`, which makes npm install the checkout into its
// npx cache and build it first (8 to 40 s). Each way the README uses runs the checkout's own bin with
// no registry at hand (offline, an unreachable registry, an empty npm cache); and the README's claim
// that in a dependent project `npx mtls-edge` runs node_modules/.bin/mtls-edge holds the same way.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const readme = readFileSync('README.md', 'utf8');
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/** Command lines in the README: the lines of its sh blocks and its inline code spans. */
function readmeCommands(): string[] {
  const fenced = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
  const inline = [...readme.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  return [...fenced, ...inline].map((c) => c.trim());
}

// npm is npm.cmd on Windows (execFile would need a shell) and symlinks need rights there.
(process.platform === 'win32' ? describe.skip : describe)('README: how the CLI is run in the checkout', function () {
  this.timeout(60_000);
  let cache = '';
  // No registry to ask: npm must not need one for anything the README runs.
  const offlineEnv = (): NodeJS.ProcessEnv => ({ ...process.env, npm_config_offline: 'true', npm_config_registry: 'http://127.0.0.1:9/', npm_config_cache: cache, npm_config_update_notifier: 'false' });

  before(() => {
    cache = mkdtempSync(join(tmpdir(), 'mtls-edge-npm-cache-'));
  });
  after(() => rmSync(cache, { recursive: true, force: true }));

  it('never runs a command through `npx mtls-edge` (that installs and builds the checkout first)', () => {
    const npxRuns = readmeCommands().filter((c) => /^npx mtls-edge \S/.test(c));
    expect(npxRuns).to.deep.equal([]);
    expect(readmeCommands().some((c) => c.startsWith('node bin/mtls-edge.js '))).to.equal(true);
  });

  it('`node bin/mtls-edge.js` is the checkout\'s CLI and needs no npm', async () => {
    const { stdout } = await run(process.execPath, ['bin/mtls-edge.js', '--version'], { env: offlineEnv() });
    expect(stdout.trim()).to.equal(version);
  });

  it('`npm start -- …` runs the checkout\'s bin with no registry and an empty npm cache', async () => {
    expect(readmeCommands().some((c) => c.startsWith('npm start -- --'))).to.equal(true);
    const { stdout } = await run('npm', ['start', '--silent', '--', '--version'], { env: offlineEnv() });
    expect(stdout.trim()).to.equal(version);
    expect(readdirSync(cache), 'nothing installed into the npx cache').to.not.include('_npx');
  });

  it('in a project that depends on mtls-edge, `npx mtls-edge` runs node_modules/.bin/mtls-edge without installing anything', async () => {
    const project = mkdtempSync(join(tmpdir(), 'mtls-edge-dependent-'));
    try {
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-app', version: '1.0.0', private: true, devDependencies: { 'mtls-edge': '*' } }));
      mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
      symlinkSync(process.cwd(), join(project, 'node_modules', 'mtls-edge'), 'dir');
      symlinkSync('../mtls-edge/bin/mtls-edge.js', join(project, 'node_modules', '.bin', 'mtls-edge'));
      const { stdout } = await run('npx', ['mtls-edge', '--version'], { cwd: project, env: offlineEnv() });
      expect(stdout.trim()).to.equal(version);
      expect(readdirSync(cache), 'nothing installed into the npx cache').to.not.include('_npx');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
