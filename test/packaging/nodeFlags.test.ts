// The edge's V8 flags live in src/cli/nodeFlags.ts and must be given on Node's command line, so they
// are repeated where the edge is launched. This keeps the copies equal, and checks that the flags do
// what nodeFlags.ts says (a young generation capped at 2 × 2 MB under allocation churn).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EDGE_NODE_FLAGS } from '../../src/cli/nodeFlags.js';

const run = promisify(execFile);
const repo = process.cwd();
const read = (f: string): string => readFileSync(join(repo, f), 'utf8');

/** The flags between `node` and the script in one command line. */
function flagsOf(words: readonly string[]): string[] {
  const node = words.findIndex((w) => w === 'node' || w.endsWith('/node'));
  expect(node, `no node in ${words.join(' ')}`).to.be.at.least(0);
  const out: string[] = [];
  for (const w of words.slice(node + 1)) {
    if (!w.startsWith('--')) break;
    out.push(w);
  }
  return out;
}

describe('packaging: the edge runs with the Node flags of src/cli/nodeFlags.ts', () => {
  const LAUNCHERS: ReadonlyArray<{ where: string; words: () => string[] }> = [
    { where: 'package.json "start"', words: () => (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start!.split(/\s+/) },
    { where: 'bin/mtls-edge.js shebang', words: () => read('bin/mtls-edge.js').split('\n')[0]!.replace(/^#!/, '').split(/\s+/) },
    { where: 'Dockerfile ENTRYPOINT', words: () => JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(read('Dockerfile'))![1]!) as string[] },
  ];
  for (const l of LAUNCHERS) {
    it(`${l.where}`, () => {
      expect(flagsOf(l.words())).to.deep.equal([...EDGE_NODE_FLAGS]);
    });
  }

  it('the young generation stays at most 4 MB under allocation churn with these flags (and grows without)', async () => {
    const probe = [
      "const v8 = require('node:v8'); let keep = [];",
      'for (let i = 0; i < 200000; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 5000) keep = []; }',
      "process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));",
    ].join('\n');
    const withFlags = Number((await run(process.execPath, [...EDGE_NODE_FLAGS, '-e', probe], { timeout: 20_000 })).stdout);
    const without = Number((await run(process.execPath, ['-e', probe], { timeout: 20_000 })).stdout);
    expect(withFlags).to.be.at.most(4 * 1024 * 1024);
    expect(without, 'the probe makes the default young generation grow').to.be.greaterThan(withFlags);
  });
});
