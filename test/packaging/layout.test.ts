// What ships and how it starts: the edge runs on plain `node` with Node's defaults wherever it is
// launched (no V8 flags to keep in step), and the benchmarks stay a project of their own that the
// tests, the build and the Docker image never pull in.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const read = (f: string): string => readFileSync(f, 'utf8');

describe('packaging: launchers and what the image and the build contain', () => {
  it('starts the edge with plain node in package.json, the bin and the Dockerfile', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).to.equal('node bin/mtls-edge.js start');
    expect(read('bin/mtls-edge.js').split('\n')[0]).to.equal('#!/usr/bin/env node');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(read('Dockerfile'))![1]!) as string[];
    expect(entrypoint).to.deep.equal(['node', '/opt/mtls-edge/bin/mtls-edge.js']);
  });

  it('copies neither bench/ nor test/ into the Docker image', () => {
    const copied = [...read('Dockerfile').matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    expect(copied).to.not.include.members(['bench', 'test']);
    expect(copied).to.include('src');
  });

  it('compiles bench/ only with its own tsconfig, and nothing in src/ or test/ imports it', () => {
    const main = JSON.parse(read('tsconfig.json')) as { include: string[] };
    expect(main.include.filter((p) => p.startsWith('bench'))).to.deep.equal([]);
    const sources = ['src', 'test'].flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)));
    expect(sources.length).to.be.greaterThan(10);
    expect(sources.filter((f) => /from '(\.\.\/)+bench\//.test(read(f)))).to.deep.equal([]);
  });
});
