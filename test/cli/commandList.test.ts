// Without a command (help, --version, a typo) the CLI answers from the summaries in
// src/cli/commandList.ts and loads none of the command modules; with one, the module's own
// definition is used, and its summary is the same text.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { COMMAND_SUMMARIES } from '../../src/cli/commandList.js';
import { startCommand } from '../../src/cli/start.js';
import { certsCommand } from '../../src/cli/certs.js';
import { echoCommand } from '../../src/cli/echo.js';
import { VERSION } from '../../src/version.js';

const BIN = join(process.cwd(), 'bin/mtls-edge.js');

interface Ran {
  readonly code: number;
  readonly out: string;
  readonly imported: string[];
}

describe('cli: commands answered without loading them', function () {
  this.timeout(30_000);
  let dir: string;
  let register: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-cmdlist-'));
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); if (process.env.IMPORT_LOG) appendFileSync(process.env.IMPORT_LOG, r.url + '\\n'); return r; }\n`);
    register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the CLI with `args`, logging every module it imports. */
  function cli(args: readonly string[]): Promise<Ran> {
    const log = join(dir, `imports-${Math.random().toString(36).slice(2)}.log`);
    writeFileSync(log, '');
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', register, BIN, ...args], { env: { ...process.env, IMPORT_LOG: log }, timeout: 20_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, out: stdout + stderr, imported: readFileSync(log, 'utf8').split('\n').filter(Boolean) });
      });
    });
  }
  const commandModules = (r: Ran): string[] => r.imported.filter((u) => /\/dist\/src\/(cli\/(start|certs|echo)\.js|pki\/|edge\/)/.test(u));

  const ROWS: ReadonlyArray<{ args: string[]; code: number; shows: string[] }> = [
    { args: ['--help'], code: 0, shows: Object.values(COMMAND_SUMMARIES).map((c) => `mtls-edge ${c.command}`) },
    { args: ['--version'], code: 0, shows: [VERSION] },
    { args: [], code: 2, shows: ['Name a command: start, certs, echo'] },
    { args: ['bogus'], code: 2, shows: ['Unknown argument: bogus'] },
  ];
  for (const row of ROWS) {
    it(`mtls-edge ${row.args.join(' ') || '(nothing)'} → exit ${row.code}, without loading a command module`, async () => {
      const r = await cli(row.args);
      expect(r.code, r.out).to.equal(row.code);
      for (const s of row.shows) expect(r.out).to.contain(s);
      expect(r.imported.some((u) => u.endsWith('/dist/src/cli/cli.js')), 'the import log works').to.equal(true);
      expect(commandModules(r)).to.deep.equal([]);
    });
  }

  it('mtls-edge --help start shows the start command\'s own options (its module is loaded)', async () => {
    const r = await cli(['--help', 'start']);
    expect(r.code).to.equal(0);
    expect(r.out).to.contain('--forwarded-client-cert');
    expect(commandModules(r)).to.include.members([r.imported.find((u) => u.endsWith('/dist/src/cli/start.js'))]);
  });

  it('each command module describes itself with the summary the list shows', () => {
    for (const [m, s] of [[startCommand, COMMAND_SUMMARIES.start], [certsCommand, COMMAND_SUMMARIES.certs], [echoCommand, COMMAND_SUMMARIES.echo]] as const) {
      expect({ command: m.command, describe: m.describe }).to.deep.equal(s);
    }
  });
});
