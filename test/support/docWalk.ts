// What the doc walk does with one fenced block: run it, load it, or check it statically, as its
// walk directives say (grammar: CONTRIBUTING.md, "The README walk"). Throws on a failed check or
// on a block the walker cannot place, so a new block in the docs cannot slip by unannotated.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import type { DirectiveArg, Directive, DocBlock } from './docBlocks.js';
import { runCommand, startBackground, stopBackground, waitFor, WAIT_BOUND_MS, type Clone, type Ran } from './docClone.js';

const KINDS = new Set(['inline', 'text', 'static', 'skip', 'stop', 'setup', 'start', 'after', 'background', 'expect', 'with', 'script', 'synopsis', 'config', 'output-of', 'ts-imports', 'files']);
const SHELL = new Set(['', 'sh', 'bash', 'shell', 'console', 'inline']);

function find(block: DocBlock, kind: string): Directive | undefined {
  return block.directives.find((d) => d.kind === kind);
}

function all(block: DocBlock, kind: string): Directive[] {
  return block.directives.filter((d) => d.kind === kind);
}

const str = (a: DirectiveArg | undefined): string => (typeof a === 'string' ? a : String(a ?? ''));
const words = (args: readonly DirectiveArg[], from: number): string => args.slice(from).map(str).join(' ');

/** The mocha title: file:line, the language, the first line, and the reason when it is not run. */
export function blockTitle(block: DocBlock): string {
  const first = block.body.split('\n').find((l) => l.trim() && !l.trim().startsWith('#'))?.trim() ?? '';
  const head = `${block.file}:${block.line} ${block.lang || 'block'}: ${first.length > 70 ? `${first.slice(0, 69)}…` : first}`;
  const text = find(block, 'text');
  if (text) return `${head} — not a command: ${words(text.args, 0)}`;
  const stat = find(block, 'static');
  if (stat) return `${head} — static: ${words(stat.args, 0)}`;
  const skips = all(block, 'skip').map((d) => `"${str(d.args[0])}" static: ${words(d.args, 1)}`);
  return skips.length ? `${head} — ${skips.join('; ')}` : head;
}

/** Lines → commands: `\` continuations joined, blank and comment-only lines dropped. */
function shellCommands(body: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const line of body.split('\n')) {
    const joined = pending + line;
    if (/\\\s*$/.test(line)) {
      pending = `${joined.replace(/\\\s*$/, '')} `;
      continue;
    }
    pending = '';
    if (joined.trim() && !joined.trim().startsWith('#')) out.push(joined.trim());
  }
  return out;
}

interface Step {
  readonly command: string;
  /** Transcript lines shown after a `$ ` command (console blocks). */
  readonly shown: readonly string[];
}

function steps(block: DocBlock): Step[] {
  if (!/^\s*\$ /m.test(block.body)) return shellCommands(block.body).map((command) => ({ command, shown: [] }));
  const out: { command: string; shown: string[] }[] = [];
  for (const line of block.body.split('\n')) {
    if (line.startsWith('$ ')) out.push({ command: line.slice(2).trim(), shown: [] });
    else if (line.trim() && out.length) out[out.length - 1]!.shown.push(line);
  }
  return out;
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Each shown line must appear in `output`; `…` stands for anything (whitespace is collapsed). */
function checkShown(shown: readonly string[], output: string, what: string): void {
  const out = squash(output);
  for (const line of shown) {
    const parts = squash(line).split('…').map((p) => p.trim()).filter(Boolean);
    let at = 0;
    for (const part of parts) {
      const i = out.indexOf(part, at);
      if (i < 0) throw new Error(`${what}: the docs show "${line.trim()}" but the output has no "${part}":\n${output.slice(-3000)}`);
      at = i + part.length;
    }
  }
}

const PATH_TOKEN = /(?:^|[\s'"=(])((?:dist|test|src|examples|bench|docs|scripts)\/[\w./*-]+)/g;

/** Static checks of a command that is not run: the files it names exist, the npm scripts it runs exist. */
function staticCheck(clone: Clone, text: string): string[] {
  const checked: string[] = [];
  const scripts = (JSON.parse(readFileSync(join(clone.dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const m of text.matchAll(/\bnpm (?:run(?:-script)? ([\w:-]+)|(test|start))\b/g)) {
    const name = m[1] ?? m[2]!;
    if (!(name in scripts)) throw new Error(`"npm run ${name}": package.json has no script "${name}"`);
    checked.push(`npm script ${name}`);
  }
  for (const m of text.matchAll(PATH_TOKEN)) {
    const path = m[1]!.replace(/[.,]$/, '');
    if (path.includes('*')) {
      const dir = join(clone.dir, dirname(path));
      const re = new RegExp(`^${path.split('/').pop()!.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
      if (!existsSync(dir) || !readdirSync(dir).some((f) => re.test(f))) throw new Error(`${path} matches no file`);
    } else if (!existsSync(join(clone.dir, path))) {
      throw new Error(`${path} does not exist`);
    }
    checked.push(path);
  }
  return checked;
}

interface Expectation {
  /** An exit code, or 'nonzero'; 0 when not given. */
  readonly exit?: number | 'nonzero';
  readonly output: RegExp[];
  /** Must match what the background processes (the running edge) have printed by then. */
  readonly log: RegExp[];
  readonly stdin?: string;
}

const toRegExp = (a: DirectiveArg | undefined): RegExp => (a instanceof RegExp ? a : new RegExp(str(a).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

function expectationFor(block: DocBlock, command: string): Expectation {
  let exit: number | 'nonzero' | undefined;
  let stdin: string | undefined;
  const output: RegExp[] = [];
  const log: RegExp[] = [];
  for (const d of all(block, 'expect')) {
    const pattern = str(d.args[0]);
    if (pattern !== '*' && !command.includes(pattern)) continue;
    for (let i = 1; i < d.args.length; i += 2) {
      const key = d.args[i];
      const value = d.args[i + 1];
      if (key === 'exit') exit = value === 'nonzero' ? 'nonzero' : Number(value);
      else if (key === 'output') output.push(toRegExp(value));
      else if (key === 'log') log.push(toRegExp(value));
      else if (key === 'stdin') stdin = str(value);
      else throw new Error(`walk directive "expect ${d.text}": unknown key ${str(key)} (exit, output, log, stdin)`);
    }
  }
  return { exit, output, log, stdin };
}

const exitOk = (code: number | null, exit: number | 'nonzero' | undefined): boolean =>
  exit === 'nonzero' ? code !== 0 && code !== null : code === (exit ?? 0);

async function checkRan(clone: Clone, ran: Ran, command: string, expected: Expectation): Promise<void> {
  const tail = (): string => ran.output.slice(-3000);
  if (ran.leftRunning.length) {
    throw new Error(`\`${command}\` left processes running (stopped now):\n${ran.leftRunning.join('\n')}\noutput:\n${tail()}`);
  }
  if (!exitOk(ran.code, expected.exit)) throw new Error(`\`${command}\` exited with ${ran.code}, the walk expects ${expected.exit ?? 0}; output:\n${tail()}`);
  for (const re of expected.output) {
    if (!re.test(ran.output)) throw new Error(`\`${command}\`: output does not match ${re}:\n${tail()}`);
  }
  for (const re of expected.log) {
    // The edge logs a refused handshake a moment after the client saw the connection close:
    // wait for the line (bounded), fail only when it has not come by then.
    const logs = (): string => clone.background.map((b) => b.output()).join('\n');
    if (!(await waitFor(() => re.test(logs())))) {
      throw new Error(`\`${command}\`: the running edge's log does not match ${re} after ${WAIT_BOUND_MS / 1000} s:\n${logs().slice(-3000)}`);
    }
  }
}

function substitute(block: DocBlock, command: string): string {
  let out = command;
  for (const d of all(block, 'with')) {
    for (const a of d.args) {
      const [k, v] = str(a).split('=');
      out = out.replace(new RegExp(`\\b${k}\\b`, 'g'), v ?? '');
    }
  }
  return out;
}

async function runShell(clone: Clone, block: DocBlock, report: string[]): Promise<void> {
  if (find(block, 'script')) {
    const expected = expectationFor(block, '*');
    const ran = await runCommand(clone, substitute(block, block.body), { stdin: expected.stdin, until: expected.output[0] });
    await checkRan(clone, ran, `script at ${block.file}:${block.line}`, expected);
    report.push(`ran the block as one script: exit ${ran.code}`);
    return;
  }
  for (const step of steps(block)) {
    const command = substitute(block, step.command);
    const skip = all(block, 'skip').find((d) => command.includes(str(d.args[0])));
    if (skip) {
      report.push(`static: \`${command}\` (${words(skip.args, 1)}); checked: ${staticCheck(clone, `${command} ${words(skip.args, 1)}`).join(', ') || 'nothing to check'}`);
      continue;
    }
    const bg = all(block, 'background').find((d) => command.includes(str(d.args[0])));
    if (bg) {
      const until = bg.args[1] === 'until' ? bg.args[2] : undefined;
      const port = bg.args[1] === 'port' ? Number(bg.args[2]) : undefined;
      if (until === undefined && port === undefined) throw new Error(`walk directive "background ${bg.text}": say until "TEXT" or port N`);
      // `restart`: the reader stops the edge that runs (Ctrl-C) before starting it again.
      if (bg.args.includes('restart')) report.push(...(await stopBackground(clone)));
      await startBackground(clone, command, { text: until, port });
      report.push(`background: \`${command}\`, ready`);
      continue;
    }
    const expected = expectationFor(block, command);
    const ran = await runCommand(clone, command, { stdin: expected.stdin, until: expected.output[0] });
    if (step.shown.length) {
      checkShown(step.shown, ran.output, command);
      if (expected.exit !== undefined && !exitOk(ran.code, expected.exit)) throw new Error(`\`${command}\` exited with ${ran.code}, the walk expects ${expected.exit}`);
    } else {
      await checkRan(clone, ran, command, expected);
    }
    report.push(`ran \`${command}\`: exit ${ran.code}`);
  }
}

async function synopsis(clone: Clone, block: DocBlock, d: Directive, report: string[]): Promise<void> {
  const help = await runCommand(clone, `${str(d.args[0])} --help`);
  if (help.code !== 0) throw new Error(`\`${str(d.args[0])} --help\` exited with ${help.code}:\n${help.output}`);
  const flags = [...new Set(block.body.match(/--[a-z][\w-]*/g) ?? [])];
  // yargs lists a one-letter option as -o; --o works all the same.
  const missing = flags.filter((f) => !new RegExp(`(?:^|\\s)-?${f.length === 3 ? f.slice(1) : f}\\b`, 'm').test(help.output));
  if (missing.length) throw new Error(`the synopsis names ${missing.join(', ')}, which \`${str(d.args[0])} --help\` does not list`);
  report.push(`synopsis: ${flags.join(', ')} all in \`${str(d.args[0])} --help\``);
}

async function config(clone: Clone, block: DocBlock, d: Directive, report: string[]): Promise<void> {
  const file = join(clone.dir, str(d.args[0]) || `walk-${block.file.replace(/\W/g, '-')}-${block.line}.yaml`);
  writeFileSync(file, block.body);
  await loadConfig({ file, cwd: clone.dir });
  report.push(`loaded as ${relative(clone.dir, file)} through src/config/load.ts: valid`);
}

/** The file package.json's `exports` maps SUBPATH to (its `default` condition), relative to the root. */
function exportTarget(clone: Clone, subpath: string): string | null {
  const exportsMap = (JSON.parse(readFileSync(join(clone.dir, 'package.json'), 'utf8')) as { exports?: Record<string, string | { default?: string }> }).exports;
  const target = exportsMap?.[subpath];
  const file = typeof target === 'string' ? target : target?.default;
  return file ? relative(clone.dir, join(clone.dir, file)) : null;
}

async function tsImports(clone: Clone, block: DocBlock, d: Directive, report: string[]): Promise<void> {
  const base = join(clone.dir, str(d.args[0]) || '.');
  for (const m of block.body.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'|\{([\w\s,]*)\}\s*=\s*await import\('([^']+)'\)/g)) {
    const specifier = m[2] ?? m[4]!;
    // `mtls-edge` and `mtls-edge/…`: the module this package's `exports` names, as an app imports it.
    const own = /^mtls-edge(\/.+)?$/.exec(specifier);
    const exported = own ? exportTarget(clone, `.${own[1] ?? ''}`) : null;
    if (own && !exported) throw new Error(`'${specifier}' is not in the exports of package.json`);
    const source = exported ?? relative(clone.dir, resolve(base, specifier));
    const compiled = exported ? join(clone.dir, exported) : join(clone.dir, 'dist', source);
    if (!(exported ? source.startsWith('dist/src/') : source.startsWith('src/')) || !existsSync(compiled)) throw new Error(`'${specifier}' (from ${relative(clone.dir, base) || '.'}) is not a module of src/`);
    const mod = (await import(pathToFileURL(compiled).href)) as Record<string, unknown>;
    const names = (m[1] ?? m[3]!).split(',').map((n) => n.trim().replace(/^type\s+/, '').replace(/\s+as\s+\w+$/, '')).filter((n) => n && !m[0]!.includes(`type ${n}`));
    const missing = names.filter((n) => !(n in mod));
    if (missing.length) throw new Error(`${source} does not export ${missing.join(', ')}`);
    report.push(`${source} exports ${names.join(', ')}`);
  }
}

/** Walks one block; returns what was done, one line per step. */
export async function walkBlock(clone: Clone, block: DocBlock): Promise<string[]> {
  const unknown = block.directives.filter((d) => !KINDS.has(d.kind));
  if (unknown.length) throw new Error(`unknown walk directive(s): ${unknown.map((d) => d.text).join('; ')} (known: ${[...KINDS].join(', ')})`);
  const report: string[] = [];
  if (find(block, 'stop')) report.push(...(await stopBackground(clone)));
  for (const d of all(block, 'setup')) {
    const ran = await runCommand(clone, str(d.args[0]));
    await checkRan(clone, ran, `setup ${str(d.args[0])}`, { output: [], log: [] });
    report.push(`setup: ran \`${str(d.args[0])}\``);
  }
  for (const d of all(block, 'start')) {
    const cmd = str(d.args[0]);
    await startBackground(clone, cmd, d.args[1] === 'port' ? { port: Number(d.args[2]) } : { text: d.args[2] });
    report.push(`setup: background \`${cmd}\`, ready`);
  }
  const text = find(block, 'text');
  const stat = find(block, 'static');
  const syn = find(block, 'synopsis');
  const cfg = find(block, 'config');
  const out = find(block, 'output-of');
  const ts = find(block, 'ts-imports');
  const files = find(block, 'files');
  if (text) {
    const checked = staticCheck(clone, words(text.args, 0));
    report.push(`not a command: ${words(text.args, 0)}${checked.length ? `; exists: ${checked.join(', ')}` : ''}`);
  } else if (stat) {
    const checked = staticCheck(clone, `${block.body}\n${words(stat.args, 0)}`);
    report.push(`static (${words(stat.args, 0)}); checked: ${checked.join(', ') || 'nothing to check'}`);
  } else if (syn) {
    await synopsis(clone, block, syn, report);
  } else if (cfg) {
    await config(clone, block, cfg, report);
  } else if (out) {
    const ran = await runCommand(clone, str(out.args[0]));
    checkShown(block.body.split('\n').filter((l) => l.trim()), ran.output, str(out.args[0]));
    report.push(`output of \`${str(out.args[0])}\` shows every line`);
  } else if (ts) {
    await tsImports(clone, block, ts, report);
  } else if (files) {
    // A folder listing: the first word of each line that names a file must exist under DIR.
    const dir = str(files.args[0]);
    const named = block.body.split('\n').map((l) => /^\s+([\w./-]+\.\w+)\s/.exec(`${l} `)?.[1]).filter((f): f is string => !!f);
    const missing = named.filter((f) => !existsSync(join(clone.dir, dir, f)));
    if (!named.length || missing.length) throw new Error(`the listing names ${missing.join(', ') || 'no file'}, not in ${dir}/`);
    report.push(`listing: ${named.length} files, all in ${dir}/`);
  } else if (SHELL.has(block.lang)) {
    await runShell(clone, block, report);
  } else {
    throw new Error(`a \`${block.lang}\` block the walk cannot run: annotate it (config, ts-imports, text or static with the reason)`);
  }
  for (const d of all(block, 'after')) {
    const ran = await runCommand(clone, str(d.args[0]));
    await checkRan(clone, ran, `after-check ${str(d.args[0])}`, { output: [], log: [] });
    report.push(`after: \`${str(d.args[0])}\` holds`);
  }
  return report;
}
