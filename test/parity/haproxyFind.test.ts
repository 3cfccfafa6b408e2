// Finding the HAProxy 3.2 build: `<repo>/../shared/tools/haproxy-3.2/haproxy`, or the same path beside
// any further parent (a git worktree two levels below the folder that holds shared/).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { findHaproxy32, majorMinor } from './haproxy.js';

describe('parity/haproxy: finding the HAProxy 3.2 binary', () => {
  let top = '';
  beforeEach(() => {
    top = mkdtempSync(join(tmpdir(), 'mtls-edge-find-haproxy-'));
  });
  afterEach(() => rmSync(top, { recursive: true, force: true }));

  const repoAt = (...parts: string[]): string => {
    const repo = join(top, ...parts);
    mkdirSync(join(repo, 'dist', 'test', 'parity'), { recursive: true });
    writeFileSync(join(repo, 'package.json'), '{}');
    return repo;
  };
  const fakeHaproxy = (dir: string, version: string): string => {
    const bin = join(dir, 'shared', 'tools', 'haproxy-3.2', 'haproxy');
    mkdirSync(join(bin, '..'), { recursive: true });
    writeFileSync(bin, `#!/bin/sh\necho "HAProxy version ${version} 2025/05/28 - https://haproxy.org/"\n`);
    chmodSync(bin, 0o755);
    return bin;
  };

  it('a clone beside shared/ finds <repo>/../shared/tools/haproxy-3.2/haproxy', () => {
    const repo = repoAt('ci', 'clone');
    const bin = fakeHaproxy(join(top, 'ci'), '3.2.7');
    expect(findHaproxy32(join(repo, 'dist', 'test', 'parity')).bin).to.equal(bin);
  });

  it('a worktree two levels down finds it by walking up the parents', () => {
    const repo = repoAt('work', 'wt', 'name');
    const bin = fakeHaproxy(join(top, 'work'), '3.2.0-e134140d2');
    expect(findHaproxy32(join(repo, 'dist', 'test', 'parity')).bin).to.equal(bin);
  });

  it('a binary that is not 3.2 does not count; the paths looked at are reported', () => {
    const repo = repoAt('work', 'clone');
    fakeHaproxy(join(top, 'work'), '2.6.12');
    const found = findHaproxy32(join(repo, 'dist', 'test', 'parity'));
    expect(found.bin).to.equal(null);
    expect(found.looked[0]).to.equal(join(top, 'work', 'shared', 'tools', 'haproxy-3.2', 'haproxy'));
  });

  it('versions are keyed by major.minor', () => {
    expect(majorMinor('2.6.12-1+deb12u4')).to.equal('2.6');
    expect(majorMinor('3.2.0-e134140d2')).to.equal('3.2');
  });
});
