// Writes config.schema.json (for editors: `# yaml-language-server: $schema=./config.schema.json`)
// from the same zod definition that validates the file. `npm run schema` regenerates it; a test
// checks that the committed copy is current.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from './jsonSchema.js';

const target = fileURLToPath(new URL('../../../config.schema.json', import.meta.url));
writeFileSync(target, JSON.stringify(configJsonSchema(), null, 2) + '\n');
process.stdout.write(`wrote ${target}\n`);
