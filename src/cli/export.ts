// `mtls-edge export haproxy|nginx`: the edge's configuration as the files real HAProxy or nginx runs
// (src/export/). Bad input becomes one line and exit code 2; existing files are kept unless --force.
// Each export lists the files it wrote in MANIFEST: --force removes those the new one does not write
// (e.g. key-1.pem after a TLS configuration was removed), so no stale key stays behind.
import { readFile, unlink } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../config/configError.js';
import { loadConfig } from '../config/load.js';
import { haproxyExport, ExportError, type ExportFile } from '../export/haproxyExport.js';
import { nginxExport } from '../export/nginxExport.js';
import type { LoadedConfig } from '../config/load.js';
import { exists, PRIVATE_MODE, writeFileAtomic } from '../pki/fsAtomic.js';
import { CliError } from './cliError.js';
import { COMMAND_SUMMARIES } from './commandList.js';

interface HaproxyArgs {
  config?: string;
  out: string;
  force: boolean;
  haproxyVersion: string;
}

const haproxy: CommandModule<object, HaproxyArgs> = {
  command: 'haproxy',
  describe: 'Write haproxy.cfg, the crt-list, certificate, CA and CRL files the Cloud Foundry HAProxy template renders for this configuration',
  builder: (y: Argv<object>) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file (default: the zero-config edge with the dev PKI in ./certs)' })
      .option('out', { type: 'string', demandOption: true, describe: 'Folder to write the files to (paths in haproxy.cfg point there)' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace files an earlier export wrote' })
      .option('haproxy-version', { type: 'string', default: '3.2', describe: 'HAProxy version that will run it (before 2.8: no X-SSL-Client-Root-CA-DN)' }) as unknown as Argv<HaproxyArgs>,
  handler: async (a) => {
    await writeExport(a, 'haproxy.cfg', 'haproxy -f', ({ config, resolved }, outDir) => haproxyExport(config, resolved, { outDir, haproxyVersion: a.haproxyVersion }));
  },
};

interface NginxArgs {
  config?: string;
  out: string;
  force: boolean;
}

const nginx: CommandModule<object, NginxArgs> = {
  command: 'nginx',
  describe: 'Write nginx.conf, proxy.inc, certificate, key, CA and CRL files: nginx\'s client-certificate headers (X-SSL-Client-Cert, -Verify, -S-DN, -I-DN) for this configuration',
  builder: (y: Argv<object>) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file (default: the zero-config edge with the dev PKI in ./certs)' })
      .option('out', { type: 'string', demandOption: true, describe: 'Folder to write the files to (paths in nginx.conf point there)' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace files an earlier export wrote' }) as unknown as Argv<NginxArgs>,
  handler: async (a) => {
    await writeExport(a, 'nginx.conf', 'nginx -c', ({ config, resolved }, outDir) => nginxExport(config, resolved, { outDir }));
  },
};

/** The file in the output folder that names the files the last export wrote, one per line. */
const MANIFEST = '.mtls-edge-export';

/** Names the last export wrote (none without a manifest); only plain file names, never a path. */
async function previousExport(outDir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(join(outDir, MANIFEST), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return text.split('\n').filter((n) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n) && n !== MANIFEST);
}

/** Loads the configuration, renders the files, refuses to replace existing ones without --force, writes them (keys 0600). */
async function writeExport(a: { config?: string; out: string; force: boolean }, main: string, runWith: string, render: (loaded: LoadedConfig, outDir: string) => ExportFile[]): Promise<void> {
  if (a.out === '') throw new CliError('--out "": --out needs a folder, not an empty value (an unset variable in a script?)', 2);
  const outDir = resolve(a.out);
  let files;
  try {
    files = render(await loadConfig({ file: a.config }), outDir);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`configuration error:\n  ${e.problems.map((p) => `${p.where}: ${p.message}`).join('\n  ')}`, 2);
    if (e instanceof ExportError) throw new CliError(e.message, 2);
    throw e;
  }
  if (!a.force) {
    const present: string[] = [];
    for (const f of files) if (await exists(join(outDir, f.name))) present.push(f.name);
    if (present.length) throw new CliError(`${outDir} already holds ${present.join(', ')}: pass --force to replace them, or --out to write to another folder`, 2);
  }
  const written = new Set(files.map((f) => f.name));
  const stale = a.force ? (await previousExport(outDir)).filter((n) => !written.has(n)) : [];
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
  for (const f of files) await write(f.name, f.content, f.secret ? PRIVATE_MODE : undefined, a.force);
  for (const n of stale) {
    try {
      await unlink(join(outDir, n));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`${join(outDir, n)}: written by the earlier export, cannot be removed (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 2);
    }
  }
  // The export's own record: replaced every time.
  await write(MANIFEST, `${[...written].join('\n')}\n`, undefined, true);
  const notes = files[0]!.content.toString().split('\n').filter((l) => l.startsWith('#   - ')).length;
  process.stdout.write(
    `Wrote ${files.map((f) => f.name).join(', ')} to ${outDir}${files.some((f) => f.secret) ? ' (files with a private key: 0600)' : ''}\n` +
      (stale.length ? `  removed what the earlier export wrote and this one does not: ${stale.join(', ')}\n` : '') +
      `  run:   ${runWith} ${join(outDir, main)}\n` +
      (notes ? `  ${notes} thing(s) mtls-edge does that ${main === 'nginx.conf' ? 'nginx' : 'HAProxy'} does not are listed at the top of ${main}\n` : ''),
  );
  }

export const exportCommand: CommandModule<object, object> = {
  ...COMMAND_SUMMARIES.export,
  builder: (y: Argv<object>) => y.command(haproxy).command(nginx).demandCommand(1, 'Name an export target: haproxy, nginx') as Argv<object>,
  handler: () => {},
};
