// A module-resolution hook that appends every module a Node process imports to a log file: pass
// the returned path to `node --import`. For tests that check what a process loads, and what not.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Writes the hook into `dir` (named after `name`) logging to `log`; returns the file for `--import`. */
export function importLogHook(dir: string, log: string, name = 'imports'): string {
  const hooks = join(dir, `${name}-hooks.mjs`);
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`);
  const register = join(dir, `${name}-register.mjs`);
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  writeFileSync(log, '');
  return register;
}
