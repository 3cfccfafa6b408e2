import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { configJsonSchema } from '../../src/config/jsonSchema.js';

describe('config.schema.json', () => {
  it('is generated from the current zod schema (run `npm run schema` after changing it)', () => {
    const committed = JSON.parse(readFileSync('config.schema.json', 'utf8'));
    expect(committed).to.deep.equal(configJsonSchema());
  });

  it('lists every top-level key with a type, and rejects unknown keys', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; additionalProperties: unknown };
    expect(Object.keys(schema.properties)).to.include.members(['https_port', 'tls', 'routes', 'forwarded_client_cert', 'hsts', 'timeouts']);
    expect(schema.additionalProperties).to.equal(false);
  });
});
