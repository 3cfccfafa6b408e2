// The README's example configuration must stay valid and complete as the schema grows.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { configSchema, routeSchema, tlsConfigSchema } from '../../src/config/schema.js';

const readme = readFileSync('README.md', 'utf8');

function exampleConfig(): Record<string, unknown> {
  const section = readme.slice(readme.indexOf('## Configuration'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README has no ```yaml block under ## Configuration');
  return parse(block[1]) as Record<string, unknown>;
}

describe('README', () => {
  it('shows the two commands first', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1];
    expect(firstBlock.trim().split('\n')).to.deep.equal(['npm install && npm start', 'npm test']);
  });

  it('has an example configuration that validates against the schema', () => {
    const result = configSchema.safeParse(exampleConfig());
    expect(result.success, result.success ? '' : JSON.stringify(result.error.issues)).to.equal(true);
  });

  it('covers every configuration key', () => {
    const cfg = exampleConfig();
    expect(Object.keys(cfg)).to.include.members(Object.keys(configSchema.shape));
    const tls = cfg.tls as Record<string, unknown>[];
    expect(Object.keys(tls[0])).to.include.members(Object.keys(tlsConfigSchema.shape));
    const routes = cfg.routes as Record<string, unknown>[];
    expect(routes.flatMap((r) => Object.keys(r))).to.include.members(Object.keys(routeSchema.shape));
  });
});
