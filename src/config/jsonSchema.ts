// The configuration's JSON Schema, generated from the zod schema (input side: what a user writes).
import { z } from 'zod';
import { configSchema } from './schema.js';

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://github.com/mtls-edge/mtls-edge/config.schema.json', title: 'mtls-edge configuration' };
}
