// The CI recipe (issue 21 item 1): examples/ci/edge-ci.sh runs exactly as written, with free ports
// and its own work folder, passes its checks, and leaves nothing running: every PID it printed is
// gone, no process names its folder, its ports are free again. A failing check still cleans up,
// also when the edge was started through a launcher that, like npm's `sh -c`, stays in between.
// Cleanup after a failed test signals only processes carrying the run's mark (a printed PID may
// have been reused by the time the test ends).
import { expect } from 'chai';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort, processesMentioning, ProcessMark, runInGroup, type ScriptRun } from '../support/processes.js';

const RECIPE = 'examples/ci/edge-ci.sh';

interface Ports {
  https: number;
  admin: number;
  app: number;
}

/** The PIDs the recipe printed: "started: app PID 1, edge launcher PID 2" and "ready: edge PID 3". */
function printedPids(output: string): number[] {
  return [...output.matchAll(/PID (\d+)/g)].map((m) => Number(m[1]));
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

(process.platform === 'win32' ? describe.skip : describe)('examples/ci/edge-ci.sh', function () {
  this.timeout(120_000);
  let work = '';
  let run: ScriptRun | null = null;
  let ports: Ports;
  let mark = new ProcessMark();

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), 'mtls-edge-ci-'));
    ports = { https: await freePort(), admin: await freePort(), app: await freePort() };
    run = null;
    mark = new ProcessMark();
  });

  afterEach(() => {
    // A failed test must not leave the edge or the app behind either.
    mark.killAll();
    rmSync(work, { recursive: true, force: true });
  });

  const recipe = (extraEnv: NodeJS.ProcessEnv = {}): Promise<ScriptRun> =>
    runInGroup('bash', [RECIPE], {
      cwd: process.cwd(),
      env: { ...process.env, EDGE_HTTPS_PORT: String(ports.https), EDGE_ADMIN_PORT: String(ports.admin), APP_PORT: String(ports.app), EDGE_WORK_DIR: join(work, 'run'), ...extraEnv },
      mark,
      timeoutMs: 90_000,
    });

  async function expectNothingLeft(output: string): Promise<void> {
    const pids = printedPids(output);
    expect(pids.length, `the PIDs the recipe printed:\n${output}`).to.be.at.least(2);
    expect(pids.filter((pid) => mark.stillRunning(pid)), 'PIDs still running').to.deep.equal([]);
    expect(mark.processes(), 'processes of this run still running').to.deep.equal([]);
    expect(processesMentioning(work), 'processes naming the work folder').to.deep.equal([]);
    for (const port of [ports.https, ports.admin, ports.app]) expect(await portIsFree(port), `port ${port} free again`).to.equal(true);
  }

  it('passes every check, exits 0 and leaves nothing running', async () => {
    run = await recipe();
    expect(run.code, run.output).to.equal(0);
    const ok = run.output.split('\n').filter((l) => l.startsWith('ok: '));
    expect(ok.length, run.output).to.equal(9);
    expect(run.output).to.contain('all checks passed');
    expect(run.output).not.to.contain('FAILED');
    expect(run.output, 'the edge is not its launcher only when npm is in between').to.match(/ready: edge PID \d+/);
    await expectNothingLeft(run.output);
  });

  it('a failing check through an npm-like launcher: exit 1, and still nothing left running', async () => {
    // Like npm's `sh -c`, this launcher stays between the script and the edge (a script's last
    // command is not exec'd), and it makes the edge forward every client header unchanged, so the
    // forged-header check (and the verified-certificate one) must fail.
    const launcher = join(work, 'npm-like-launcher');
    writeFileSync(launcher, `#!/bin/sh\nif [ "$1" = start ]; then set -- "$@" --forwarded-client-cert always_forward_only; fi\nnode "${join(process.cwd(), 'bin/mtls-edge.js')}" "$@"\n`);
    chmodSync(launcher, 0o755);
    run = await recipe({ MTLS_EDGE: launcher });
    expect(run.code, run.output).to.equal(1);
    expect(run.output).to.contain('FAILED: forged X-SSL-Client-* headers without a certificate');
    const [, launcherPid, edgePid] = printedPids(run.output);
    expect(edgePid, 'the edge runs under the launcher, as under npm').to.not.equal(launcherPid);
    await expectNothingLeft(run.output);
  });
});

describe('examples/ci: the GitHub Actions and GitLab CI jobs', () => {
  const runsTheRecipe = (commands: readonly string[]): boolean => commands.some((c) => c.trim() === `bash ${RECIPE}`);

  it('the GitHub Actions job runs the same script, after npm ci', () => {
    const workflow = parse(readFileSync('examples/ci/github-actions.yml', 'utf8')) as { jobs: Record<string, { steps: { run?: string }[] }> };
    const runs = Object.values(workflow.jobs).flatMap((job) => job.steps.map((step) => step.run ?? ''));
    expect(runs.map((r) => r.trim())).to.include('npm ci');
    expect(runsTheRecipe(runs), runs.join('\n')).to.equal(true);
  });

  it('the GitLab CI job runs the same script, after npm ci, in an image with bash and curl', () => {
    const pipeline = parse(readFileSync('examples/ci/gitlab-ci.yml', 'utf8')) as Record<string, { image?: string; script?: string[] }>;
    const job = pipeline['mtls-edge']!;
    expect(job.image).to.equal('node:20');
    expect(job.script).to.include('npm ci');
    expect(runsTheRecipe(job.script ?? []), (job.script ?? []).join('\n')).to.equal(true);
  });
});
