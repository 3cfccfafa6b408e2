// Without a command (help, --version, a typo) the CLI answers from the summaries in
// src/cli/commandList.ts and loads none of the command modules; with one, the module's own
// definition is used.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMAND_SUMMARIES } from '../../src/cli/commandList.js';
import { VERSION } from '../../src/version.js';
import { importLogHook } from '../support/importLog.js';

const BIN = join(process.cwd(), 'bin/mtls-edge.js');

interface Ran {
  readonly code: number;
  readonly out: string;
  readonly imported: string[];
}

describe('cli: commands answered without loading them', function () {
  this.timeout(30_000);
  let dir: string;
  let runs = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-cmdlist-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the CLI with `args`, logging every module it imports. */
  function cli(args: readonly string[]): Promise<Ran> {
    const name = `run${++runs}`;
    const log = join(dir, `${name}.log`);
    const register = importLogHook(dir, log, name);
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', register, BIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
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
});
