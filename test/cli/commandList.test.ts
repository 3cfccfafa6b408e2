// The command line without a command (help, --version, a typo) and each command's own help: what
// the user sees and the exit code.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { COMMAND_SUMMARIES } from '../../src/cli/commandList.js';
import { VERSION } from '../../src/version.js';

const BIN = join(process.cwd(), 'bin/mtls-edge.js');

interface Ran {
  readonly code: number;
  readonly out: string;
}

function cli(args: readonly string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

describe('cli: help, version and unknown commands', function () {
  this.timeout(30_000);

  const ROWS: ReadonlyArray<{ args: string[]; code: number; shows: string[] }> = [
    { args: ['--help'], code: 0, shows: Object.values(COMMAND_SUMMARIES).map((c) => `mtls-edge ${c.command}`) },
    { args: ['--version'], code: 0, shows: [VERSION] },
    { args: [], code: 2, shows: ['Name a command: start, certs, export, echo'] },
    { args: ['bogus'], code: 2, shows: ['mtls-edge: unknown command "bogus": name one of start, certs, export, echo\nRun `mtls-edge --help` for usage.'] },
    { args: ['--help', 'start'], code: 0, shows: ['mtls-edge start', '--forwarded-client-cert', '--config'] },
    { args: ['start', '--help'], code: 0, shows: ['--client-auth', '[choices: "disabled", "optional", "required"]'] },
    { args: ['start', '-h'], code: 0, shows: ['--client-auth', '-h, --help'] },
    { args: ['-h'], code: 0, shows: Object.values(COMMAND_SUMMARIES).map((c) => `mtls-edge ${c.command}`) },
    { args: ['certs', '-h'], code: 0, shows: ['mtls-edge certs init'] },
    { args: ['certs', '--help'], code: 0, shows: ['mtls-edge certs init'] },
    { args: ['export', '--help'], code: 0, shows: ['mtls-edge export haproxy'] },
  ];
  for (const row of ROWS) {
    it(`mtls-edge ${row.args.join(' ') || '(nothing)'} → exit ${row.code}`, async () => {
      const r = await cli(row.args);
      expect(r.code, r.out).to.equal(row.code);
      for (const s of row.shows) expect(r.out).to.contain(s);
    });
  }
});
