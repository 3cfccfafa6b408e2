// The fenced blocks of a Markdown file with the walk directives written above them, for
// test/packaging/docWalk.test.ts. A directive is an HTML comment on the line(s) right above the
// fence, invisible to a reader: `<!-- walk: KIND ARGS… -->`. The grammar is in CONTRIBUTING.md
// ("The README walk"); ARGS are words, "quoted strings" (\" and \\ inside) or /regular expressions/.
import { readFileSync } from 'node:fs';

export type DirectiveArg = string | RegExp;

export interface Directive {
  readonly kind: string;
  readonly args: readonly DirectiveArg[];
  /** The directive's own text, for messages. */
  readonly text: string;
}

export interface DocBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's info string (`sh`, `yaml`, …), '' when none. */
  readonly lang: string;
  readonly body: string;
  readonly directives: readonly Directive[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const DIRECTIVE = /^\s*<!--\s*walk:\s*([\s\S]*?)\s*-->\s*$/;

/** Splits `ARGS` into words, "strings" and /regexps/; throws naming the text on a bad one. */
export function parseArgs(text: string): DirectiveArg[] {
  const args: DirectiveArg[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === '/') {
      let value = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== c; j++) {
        if (text[j] === '\\' && c === '"' && j + 1 < text.length) {
          const e = text[++j]!;
          value += e === 'r' ? '\r' : e === 'n' ? '\n' : e;
        }
        else if (text[j] === '\\' && c === '/' && j + 1 < text.length) value += text[j]! + text[++j]!;
        else value += text[j];
      }
      if (j >= text.length) throw new Error(`unterminated ${c} in walk directive: ${text}`);
      i = j + 1;
      if (c === '"') {
        args.push(value);
      } else {
        const flags = /^[a-z]*/.exec(text.slice(i))![0];
        i += flags.length;
        args.push(new RegExp(value, flags));
      }
    } else {
      const word = /^\S+/.exec(text.slice(i))![0];
      args.push(word);
      i += word.length;
    }
  }
  return args;
}

function directiveOf(line: string): Directive | undefined {
  const m = DIRECTIVE.exec(line);
  if (!m) return undefined;
  const [, kind, rest] = /^(\S*)\s*([\s\S]*)$/.exec(m[1]!)!;
  return { kind: kind!, args: parseArgs(rest!), text: m[1]! };
}

const INLINE_COMMAND = /^(?:curl|npm|npx|mtls-edge|openssl|node bin\/mtls-edge\.js) /;

/**
 * Every fenced block of `file` (path relative to `root`) in order, with its directives. A group of
 * directives holding `inline` that is not right above a fence makes a block of the commands
 * written as code spans (`curl …`, `npm …`, `npx …`, `mtls-edge …`, `node bin/mtls-edge.js …`, `openssl …`) in the
 * paragraph or table below it, lang 'inline'.
 */
export function docBlocks(root: string, file: string): DocBlock[] {
  const lines = readFileSync(`${root}/${file}`, 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = directiveOf(lines[i]!);
    if (first) {
      const group: Directive[] = [];
      let j = i;
      for (let d: Directive | undefined = first; d; d = directiveOf(lines[++j] ?? '')) group.push(d);
      if (!group.some((d) => d.kind === 'inline') || FENCE.test(lines[j] ?? '')) {
        i = j - 1;
        continue;
      }
      const commands: string[] = [];
      for (; j < lines.length && lines[j]!.trim(); j++) {
        for (const m of lines[j]!.matchAll(/`([^`]+)`/g)) if (INLINE_COMMAND.test(m[1]!)) commands.push(m[1]!);
      }
      blocks.push({ file, line: i + group.length + 1, lang: 'inline', body: commands.join('\n'), directives: group });
      i = j;
      continue;
    }
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.trim().startsWith(fence!) && line.trim().replace(/[`~]/g, '') === '') break;
      body.push(line.startsWith(indent!) ? line.slice(indent!.length) : line.trimStart());
    }
    const directives: Directive[] = [];
    for (let k = i - 1; k >= 0; k--) {
      const d = directiveOf(lines[k]!);
      if (!d) break;
      directives.unshift(d);
    }
    blocks.push({ file, line: i + 1, lang: lang ?? '', body: body.join('\n'), directives });
    i = j;
  }
  return blocks;
}
