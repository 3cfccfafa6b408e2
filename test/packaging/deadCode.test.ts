// The dead-code check in `npm test`: knip (configured in knip.jsonc) must find no unused file,
// export or dependency. It reads the TypeScript sources, not dist/, and takes a few seconds.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const KNIP = join(root, 'node_modules', 'knip', 'bin', 'knip.js');
const TIME_LIMIT_MS = 120_000;

describe('dead code (knip)', () => {
  it('finds no unused files, exports or dependencies', function () {
    this.timeout(TIME_LIMIT_MS + 10_000);
    expect(existsSync(KNIP), `${KNIP} is missing: run npm install (knip is a devDependency)`).to.equal(true);
    const run = spawnSync(process.execPath, [KNIP, '--no-progress'], {
      cwd: root,
      encoding: 'utf8',
      timeout: TIME_LIMIT_MS,
      killSignal: 'SIGKILL',
      env: { ...process.env, NO_COLOR: '1' },
    });
    if (run.error) throw new Error(`knip did not finish within ${TIME_LIMIT_MS / 1000} s: ${run.error.message}`);
    const report = `${run.stdout}${run.stderr}`.trim();
    expect(run.status, `knip found dead code (remove it, or drop the \`export\` of what only its own file uses):\n${report}`).to.equal(0);
  });
});
