// `mtls-edge export haproxy|nginx`: the edge's configuration as the files real HAProxy or nginx runs
// (src/export/). Bad input becomes one line and exit code 2; existing files are kept unless --force.
// Each export lists the files it wrote in MANIFEST with their SHA-256: --force removes those the new
// one does not write (e.g. key-1.pem after a TLS configuration was removed), so no stale key stays
// behind, but only names an export writes and only files unchanged since (others are named, kept).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile, unlink } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../config/configError.js';
import { loadConfig } from '../config/load.js';
import { haproxyExport, ExportError, type ExportFile } from '../export/haproxyExport.js';
import { nginxExport } from '../export/nginxExport.js';
import { isExportName, type ExportName } from '../export/exportNames.js';
import type { LoadedConfig } from '../config/load.js';
import { exists, PRIVATE_MODE, writeFileAtomic } from '../pki/fsAtomic.js';
import { CliError } from './cliError.js';
import { COMMAND_SUMMARIES } from './commandList.js';

/** The options every export target takes, declared once. */
interface ExportArgs {
  config?: string;
  out: string;
  force: boolean;
}

/** --config, --out, --force; `mainFile` is the file whose paths point into --out. */
function exportOptions(y: Argv<object>, mainFile: string): Argv<ExportArgs> {
  return y
    .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file (default: the zero-config edge with the dev PKI in ./certs)' })
    .option('out', { type: 'string', demandOption: true, describe: `Folder to write the files to (paths in ${mainFile} point there)` })
    .option('force', { type: 'boolean', default: false, describe: 'Replace files an earlier export wrote' }) as unknown as Argv<ExportArgs>;
}

interface HaproxyArgs extends ExportArgs {
  haproxyVersion: string;
}

const haproxy: CommandModule<object, HaproxyArgs> = {
  command: 'haproxy',
  describe: 'Write haproxy.cfg, the crt-list, certificate, CA and CRL files the Cloud Foundry HAProxy template renders for this configuration',
  builder: (y: Argv<object>) =>
    exportOptions(y, 'haproxy.cfg').option('haproxy-version', { type: 'string', default: '3.2', describe: 'HAProxy version that will run it (before 2.8: no X-SSL-Client-Root-CA-DN)' }) as unknown as Argv<HaproxyArgs>,
  handler: async (a) => {
    await writeExport(a, 'haproxy.cfg', 'haproxy -f', ({ config, resolved }, outDir) => haproxyExport(config, resolved, { outDir, haproxyVersion: a.haproxyVersion }));
  },
};

const nginx: CommandModule<object, ExportArgs> = {
  command: 'nginx',
  describe: 'Write nginx.conf, proxy.inc, certificate, key, CA and CRL files: nginx\'s client-certificate headers (X-SSL-Client-Cert, -Verify, -S-DN, -I-DN) for this configuration',
  builder: (y: Argv<object>) => exportOptions(y, 'nginx.conf'),
  handler: async (a) => {
    await writeExport(a, 'nginx.conf', 'nginx -c', ({ config, resolved }, outDir) => nginxExport(config, resolved, { outDir }));
  },
};

/**
 * The file in the output folder that names the files the last export wrote, one per line with its
 * SHA-256 as `sha256sum` writes it (`sha256sum -c .mtls-edge-export` checks them).
 */
const MANIFEST = '.mtls-edge-export';

interface ManifestEntry {
  readonly name: ExportName;
  /** null: a line without a checksum (a manifest of an earlier version, or edited). */
  readonly sha256: string | null;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * What the last export wrote (nothing without a manifest). Only names an export writes count
 * (src/export/exportNames.ts): any other line names a file this command never removes.
 */
async function previousExport(outDir: string): Promise<{ entries: ManifestEntry[]; foreign: string[] }> {
  let text: string;
  try {
    text = await readFile(join(outDir, MANIFEST), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], foreign: [] };
    throw e;
  }
  const entries: ManifestEntry[] = [];
  const foreign: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    const name = m ? m[2]! : line;
    if (isExportName(name)) entries.push({ name, sha256: m ? m[1]! : null });
    else foreign.push(name);
  }
  return { entries, foreign };
}

/** Removes a file an earlier export wrote, if it still holds what that export wrote; else says why it stays. */
async function removeIfUnchanged(outDir: string, e: ManifestEntry): Promise<'removed' | 'gone' | string> {
  const path = join(outDir, e.name);
  try {
    const st = await lstat(path);
    if (!st.isFile()) return 'not a plain file';
    if (e.sha256 === null) return 'no checksum in the manifest';
    if ((await sha256File(path)) !== e.sha256) return 'changed';
    await unlink(path);
    return 'removed';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw new CliError(`${path}: written by the earlier export, cannot be removed (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 2);
  }
}

/** Up to 10 names, quoted when they are not plain (a manifest line is anyone's text). */
const nameList = (names: readonly string[]): string =>
  names.slice(0, 10).map((n) => (/^[A-Za-z0-9._-]+$/.test(n) ? n : JSON.stringify(n))).join(', ') + (names.length > 10 ? ` and ${names.length - 10} more` : '');

/** Loads the configuration, renders the files, refuses to replace existing ones without --force, writes them (keys 0600). */
async function writeExport(a: { config?: string; out: string; force: boolean }, main: string, runWith: string, render: (loaded: LoadedConfig, outDir: string) => ExportFile[]): Promise<void> {
  if (a.out === '') throw new CliError('--out "": --out needs a folder, not an empty value (an unset variable in a script?)', 2);
  const outDir = resolve(a.out);
  let files;
  try {
    files = render(await loadConfig({ file: a.config }), outDir);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`configuration error:\n  ${e.joined('\n  ')}`, 2);
    if (e instanceof ExportError) throw new CliError(e.message, 2);
    throw e;
  }
  if (!a.force) {
    const present: string[] = [];
    for (const f of files) if (await exists(join(outDir, f.name))) present.push(f.name);
    if (present.length) throw new CliError(`${outDir} already holds ${present.join(', ')}: pass --force to replace them, or --out to write to another folder`, 2);
  }
  const written = new Set<string>(files.map((f) => f.name));
  const previous = a.force ? await previousExport(outDir) : { entries: [], foreign: [] };
  const stale = previous.entries.filter((e) => !written.has(e.name));
  const write = async (name: string, content: string | Buffer, mode: number | undefined, overwrite: boolean): Promise<void> => {
    try {
      await writeFileAtomic(join(outDir, name), content, mode, { overwrite });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST') throw new CliError(`${join(outDir, name)} appeared while exporting: pass --force to replace it`, 2);
      if (err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'ENOTDIR' || err.code === 'ENOSPC') throw new CliError(`${err.path ?? join(outDir, name)}: cannot write (${err.code})`, 2);
      throw e;
    }
  };
  const manifest: string[] = [];
  for (const f of files) {
    // Bytes once: what is written is what is hashed.
    const data = typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content;
    await write(f.name, data, f.secret ? PRIVATE_MODE : undefined, a.force);
    manifest.push(`${sha256(data)}  ${f.name}`);
  }
  const removed: string[] = [];
  const kept: string[] = [];
  for (const e of stale) {
    const r = await removeIfUnchanged(outDir, e);
    if (r === 'removed') removed.push(e.name);
    else if (r !== 'gone') kept.push(`${e.name} (${r})`);
  }
  // The export's own record: replaced every time.
  await write(MANIFEST, `${manifest.join('\n')}\n`, undefined, true);
  const notes = files[0]!.content.toString().split('\n').filter((l) => l.startsWith('#   - ')).length;
  process.stdout.write(
    `Wrote ${files.map((f) => f.name).join(', ')} to ${outDir}${files.some((f) => f.secret) ? ' (files with a private key: 0600)' : ''}\n` +
      (removed.length ? `  removed what the earlier export wrote and this one does not: ${removed.join(', ')}\n` : '') +
      (kept.length ? `  kept, not as the earlier export wrote it (remove it yourself if it is stale): ${kept.join(', ')}\n` : '') +
      (previous.foreign.length ? `  ${MANIFEST} also named ${nameList(previous.foreign)}: not a file an export writes, left alone\n` : '') +
      `  run:   ${runWith} ${join(outDir, main)}\n` +
      (notes ? `  ${notes} thing(s) mtls-edge does that ${main === 'nginx.conf' ? 'nginx' : 'HAProxy'} does not are listed at the top of ${main}\n` : ''),
  );
  }

export const exportCommand: CommandModule<object, object> = {
  ...COMMAND_SUMMARIES.export,
  builder: (y: Argv<object>) => y.command(haproxy).command(nginx).demandCommand(1, 'Name an export target: haproxy, nginx') as Argv<object>,
  handler: () => {},
};
