// The flow page's own files (src/observe/page/), read once when the admin listener is loaded and then
// served from memory. tsc does not copy them: from dist/src/observe/ they are found in the source tree
// (src/observe/page/, shipped beside dist/ by a clone, npm pack and the Docker image); a page/ folder
// next to the compiled module, should a build copy it there, wins.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CANDIDATES = [new URL('./page/', import.meta.url), new URL('../../../src/observe/page/', import.meta.url)];

function pageDir(): URL {
  for (const dir of CANDIDATES) if (existsSync(new URL('flow.html', dir))) return dir;
  throw new Error(`the flow page's files are missing: looked for flow.html in ${CANDIDATES.map((u) => fileURLToPath(u)).join(' and ')}; reinstall mtls-edge or restore src/observe/page/`);
}

const dir = pageDir();
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');

/** The page's HTML template, with {{name}} placeholders. */
export const PAGE_HTML = read('flow.html');

const TYPES: Readonly<Record<string, string>> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** The script and style files the page loads, by URL path (`/flow.js`), in the order it loads them. */
export const PAGE_FILES: ReadonlyMap<string, { readonly type: string; readonly body: string }> = new Map(
  ['flow.css', 'flow.js', 'lanes.js', 'lessons.js'].map((name) => [`/${name}`, { type: TYPES[name.split('.').pop()!]!, body: read(name) }]),
);

/** Replaces each {{name}} with its (already escaped) value; an unknown name is a programming error. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`page template placeholder {{${name}}} has no value`);
    return v;
  });
}

/** JSON for a <script type="application/json"> block: `<` escaped so no `</script>` can end it. */
export function jsonInHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
