// `mtls-edge export haproxy`: the edge's configuration as the files real HAProxy runs
// (src/export/). Bad input becomes one line and exit code 2; existing files are kept unless --force.
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
  for (const f of files) {
    try {
      await writeFileAtomic(join(outDir, f.name), f.content, f.secret ? PRIVATE_MODE : undefined, { overwrite: a.force });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST') throw new CliError(`${join(outDir, f.name)} appeared while exporting: pass --force to replace it`, 2);
      if (err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'ENOTDIR' || err.code === 'ENOSPC') throw new CliError(`${err.path ?? join(outDir, f.name)}: cannot write (${err.code})`, 2);
      throw e;
    }
  }
  const notes = files[0]!.content.toString().split('\n').filter((l) => l.startsWith('#   - ')).length;
  process.stdout.write(
    `Wrote ${files.map((f) => f.name).join(', ')} to ${outDir}${files.some((f) => f.secret) ? ' (files with a private key: 0600)' : ''}\n` +
      `  run:   ${runWith} ${join(outDir, main)}\n` +
      (notes ? `  ${notes} thing(s) mtls-edge does that ${main === 'nginx.conf' ? 'nginx' : 'HAProxy'} does not are listed at the top of ${main}\n` : ''),
  );
  }

export const exportCommand: CommandModule<object, object> = {
  ...COMMAND_SUMMARIES.export,
  builder: (y: Argv<object>) => y.command(haproxy).command(nginx).demandCommand(1, 'Name an export target: haproxy, nginx') as Argv<object>,
  handler: () => {},
};
