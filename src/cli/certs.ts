// `mtls-edge certs …`: dev PKI and certificate tooling. The work lives in src/pki/; this module only
// parses flags, prints results, and turns bad input into one-line CliErrors (exit code 2).
import type { Argv, CommandModule } from 'yargs';
import { join, resolve } from 'node:path';
import { CliError } from './cliError.js';
import { COMMAND_SUMMARIES } from './commandList.js';
import { devPkiPaths, ensureDevPki, crlPaths } from '../pki/devPki.js';
import { FAILURE_KINDS } from '../pki/failures.js';
import { ensureHostile, HOSTILE_KINDS, hostileDir } from '../pki/hostile.js';
import { DEFAULT_P12_PASSWORD, importMaterial, resolveName, toBase64Pem, toOneLinePem, toPem, toPkcs12 } from '../pki/convert.js';
import { writeFileAtomic, PRIVATE_MODE } from '../pki/fsAtomic.js';
import { formatReport, inspectFile } from '../pki/inspect.js';
import { issueFromCa } from '../pki/issueCli.js';
import { isKeyType, KEY_TYPES } from '../pki/keys.js';
import { MaterialError } from '../pki/readMaterial.js';
import { normaliseSan, SanError, type Validity } from '../pki/issue.js';

const out = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};

/** Bad input becomes exit code 2 with one line; anything else is a bug and keeps its own message. */
function guard<A>(fn: (args: A) => Promise<void>): (args: A) => Promise<void> {
  return async (args) => {
    try {
      await fn(args);
    } catch (err) {
      if (err instanceof CliError) throw err;
      if (err instanceof MaterialError) throw new CliError(err.message, 2);
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EACCES' || e.code === 'EROFS' || e.code === 'ENOTDIR' || e.code === 'ENOSPC') {
        throw new CliError(`${e.path ?? 'file'}: cannot write (${e.code})`, 2);
      }
      throw err;
    }
  };
}

/** `--password`, else the MTLS_EDGE_PASSWORD variable (keeps it out of `ps` and shell history). */
const passwordOf = (p: string | undefined): string | undefined => p ?? process.env.MTLS_EDGE_PASSWORD;

const dirOption = { type: 'string', default: 'certs', describe: 'Folder of the dev PKI' } as const;

const init: CommandModule<object, { dir: string; force: boolean; withFailures: boolean; hostile: boolean }> = {
  command: 'init',
  describe: 'Create the dev PKI: root CA -> intermediate -> server + client certificates (kept if present)',
  builder: (y: Argv<object>) =>
    y
      .option('dir', dirOption)
      .option('force', { type: 'boolean', default: false, describe: 'Regenerate everything, replacing existing keys' })
      .option('with-failures', { type: 'boolean', default: false, describe: 'Also create the failure family (expired, revoked, …) and CRLs' })
      .option('hostile', { type: 'boolean', default: false, describe: 'Also create the hostile family (empty subject, 150 RDNs, control bytes, 50-cert chain, …)' }) as unknown as Argv<{ dir: string; force: boolean; withFailures: boolean; hostile: boolean }>,
  handler: guard(async (a) => {
    const { pki, created } = await ensureDevPki(a.dir, { force: a.force, withFailures: a.withFailures });
    // Regenerated CA material makes old hostile certificates unverifiable: rebuild them with it.
    const hostileMade = a.hostile && (await ensureHostile(a.dir, { force: a.force || created }));
    out(created || hostileMade ? `Dev PKI written to ${pki.dir}` : `Dev PKI in ${pki.dir} is complete; kept as is (--force regenerates it)`);
    out([
      `  trust list (root CA):  ${pki.rootCa.cert}`,
      `  server chain / key:    ${pki.server.chain}  ${pki.server.key}`,
      `  client chain / key:    ${pki.client.chain}  ${pki.client.key}`,
      `  CRLs:                  ${crlPaths(a.dir).all}`,
      a.withFailures ? `  failure family:        ${join(pki.dir, 'failures')} (${FAILURE_KINDS.length} cases)` : '',
      a.hostile ? `  hostile family:        ${hostileDir(pki.dir)} (${HOSTILE_KINDS.length} cases, see docs/certs.md)` : '',
      `  how to use them:       ${join(pki.dir, 'README.txt')}`,
    ].filter(Boolean).join('\n'));
  }),
};

interface IssueArgs {
  type: string; cn: string; san?: string[]; o?: string; ou?: string[]; c?: string; days?: number;
  notBefore?: string; notAfter?: string; key: string; ca?: string; out?: string; dir: string;
}

function validityOf(a: IssueArgs): Validity {
  if (a.notBefore !== undefined || a.notAfter !== undefined) {
    if (a.days !== undefined) throw new CliError('use either --days or --not-before/--not-after, not both', 2);
    if (a.notBefore === undefined || a.notAfter === undefined) throw new CliError('--not-before and --not-after go together', 2);
    const nb = new Date(a.notBefore);
    const na = new Date(a.notAfter);
    if (Number.isNaN(nb.getTime())) throw new CliError(`--not-before: "${a.notBefore}" is not a date (use ISO 8601, e.g. 2025-01-31T00:00:00Z)`, 2);
    if (Number.isNaN(na.getTime())) throw new CliError(`--not-after: "${a.notAfter}" is not a date (use ISO 8601, e.g. 2026-01-31T00:00:00Z)`, 2);
    if (na <= nb) throw new CliError('--not-after must be later than --not-before', 2);
    return { notBefore: nb, notAfter: na };
  }
  const days = a.days ?? (a.type === 'server' ? 825 : 365);
  if (!Number.isInteger(days) || days <= 0 || days > 36500) throw new CliError(`--days must be a whole number from 1 to 36500, got ${a.days}`, 2);
  return { days };
}

/** Names go into the certificate as they are: no line breaks, controls or bidi characters. */
function checkSubjectText(flag: string, value: string): void {
  if (/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/.test(value)) {
    throw new CliError(`${flag} ${JSON.stringify(value)} contains a line break or a control character: use plain text`, 2);
  }
}

function checkSan(flag: string, value: string): void {
  try {
    normaliseSan(value);
  } catch (e) {
    if (e instanceof SanError) throw new CliError(`${flag} ${e.message}`, 2);
    throw e;
  }
}

const issue: CommandModule<object, IssueArgs> = {
  command: 'issue <type>',
  describe: 'Issue a client or server certificate from the dev intermediate (or --ca DIR)',
  builder: (y: Argv<object>) =>
    y
      .positional('type', { choices: ['client', 'server'] as const, demandOption: true, describe: 'Certificate profile (EKU clientAuth or serverAuth)' })
      .option('cn', { type: 'string', demandOption: true, describe: 'Common name' })
      .option('san', { type: 'string', array: true, describe: 'Subject alternative names (DNS name, IP, email, or DNS:/IP:/URI: prefixed)' })
      .option('o', { type: 'string', describe: 'Organization' })
      .option('ou', { type: 'string', array: true, describe: 'Organizational unit (repeatable)' })
      .option('c', { type: 'string', describe: 'Country (two letters)' })
      .option('days', { type: 'number', describe: 'Validity in days from now (server 825, client 365 by default)' })
      .option('not-before', { type: 'string', describe: 'Start of validity (ISO 8601), with --not-after' })
      .option('not-after', { type: 'string', describe: 'End of validity (ISO 8601), with --not-before' })
      .option('key', { type: 'string', default: 'ec-p256', choices: KEY_TYPES, describe: 'Key type' })
      .option('ca', { type: 'string', describe: 'CA folder: a dev PKI (its intermediate signs) or a folder with ca.crt + ca.key; default --dir' })
      .option('out', { type: 'string', describe: 'Output folder (default DIR/issued)' })
      .option('dir', dirOption) as unknown as Argv<IssueArgs>,
  handler: guard(async (a) => {
    if (a.type !== 'client' && a.type !== 'server') throw new CliError(`unknown certificate type "${a.type}": use client or server`, 2);
    if (!isKeyType(a.key)) throw new CliError(`--key must be one of ${KEY_TYPES.join(', ')}`, 2);
    if (a.c !== undefined && !/^[A-Za-z]{2}$/.test(a.c)) throw new CliError(`--c must be a two-letter country code, got "${a.c}"`, 2);
    if (!a.cn.trim()) throw new CliError('--cn must not be empty', 2);
    checkSubjectText('--cn', a.cn);
    if (a.o !== undefined) checkSubjectText('--o', a.o);
    for (const ou of a.ou ?? []) checkSubjectText('--ou', ou);
    for (const san of a.san ?? []) checkSan('--san', san);
    if (a.type === 'server' && (a.san ?? []).length === 0) checkSan('--cn (the DNS name of a server certificate without --san)', a.cn);
    const files = await issueFromCa({
      type: a.type, cn: a.cn, san: a.san, o: a.o, ou: a.ou, c: a.c, validity: validityOf(a), keyType: a.key,
      caDir: a.ca ?? a.dir, outDir: a.out ?? join(a.dir, 'issued'),
    });
    out(`Issued ${a.type} certificate CN=${a.cn}\n  cert:  ${files.cert}\n  key:   ${files.key}\n  chain: ${files.chain}`);
  }),
};

interface ExportArgs {
  name: string; p12: boolean; password?: string; chainOnly: boolean; oneLine: boolean; base64: boolean; out?: string; dir: string; force: boolean;
}

const exportCmd: CommandModule<object, ExportArgs> = {
  command: 'export <name>',
  describe: 'Convert: PKCS#12 (--p12), chain without key (--chain-only), one-line PEM (--one-line), base64 PEM (--base64)',
  builder: (y: Argv<object>) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: `client, server, root, intermediate, a failure kind, or a file path` })
      .option('p12', { type: 'boolean', default: false, describe: 'PKCS#12 keystore with key and chain (AES-256, SHA-256 MAC)' })
      .option('password', { type: 'string', describe: `PKCS#12 password (or env MTLS_EDGE_PASSWORD; default ${DEFAULT_P12_PASSWORD})` })
      .option('chain-only', { type: 'boolean', default: false, describe: 'Leaf + intermediates, no private key' })
      .option('one-line', { type: 'boolean', default: false, describe: 'Single-line PEM with literal \\n' })
      .option('base64', { type: 'boolean', default: false, describe: 'Base64 of the PEM (for JSON bodies)' })
      .option('out', { type: 'string', describe: 'Write to this file instead of stdout (PKCS#12 default: DIR/NAME.p12)' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace an existing PKCS#12 file' })
      .option('dir', dirOption) as unknown as Argv<ExportArgs>,
  handler: guard(async (a) => {
    // Checked here: yargs' conflicts() also fires on boolean defaults.
    if (a.p12 && (a.chainOnly || a.oneLine || a.base64)) throw new CliError('--p12 cannot be combined with --chain-only, --one-line or --base64', 2);
    if (a.oneLine && a.base64) throw new CliError('choose one of --one-line and --base64', 2);
    const password = passwordOf(a.password);
    const m = await resolveName(a.dir, a.name, password);
    if (a.p12) {
      // Inside the PKI folder by default, not the working directory (often a repository): it holds a private key.
      const target = resolve(a.out ?? join(a.dir, `${m.name}.p12`));
      try {
        await writeFileAtomic(target, toPkcs12(m, password ?? DEFAULT_P12_PASSWORD), PRIVATE_MODE, { overwrite: a.force });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        throw new CliError(`${target} already exists and may hold a key still in use: pass --force to replace it, or --out to write another file`, 2);
      }
      out(`Wrote ${target} (PKCS#12: key + ${m.chain.length} certificate(s); AES-256-CBC, PBKDF2-SHA256, SHA-256 MAC; ${password === undefined ? 'default password, see docs/certs.md' : 'your password'})`);
      return;
    }
    const pem = toPem(a.chainOnly ? m.chain : m.chain.slice(0, 1));
    const text = a.oneLine ? toOneLinePem(pem) : a.base64 ? toBase64Pem(pem) : pem;
    if (a.out) {
      await writeFileAtomic(resolve(a.out), a.oneLine || a.base64 ? `${text}\n` : text);
      out(`Wrote ${resolve(a.out)}`);
    } else out(text);
  }),
};

interface ImportArgs { file: string; key?: string; password?: string; name?: string; out?: string; dir: string }

const importCmd: CommandModule<object, ImportArgs> = {
  command: 'import <file>',
  describe: 'Import a PKCS#12/PFX, a PEM, or base64 certificate + PKCS#8 key strings (### tags are dropped)',
  builder: (y: Argv<object>) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'PKCS#12/PFX, PEM, DER, or a file holding a base64 certificate string' })
      .option('key', { type: 'string', describe: 'File with the private key (PEM, DER, or base64 PKCS#8 string)' })
      .option('password', { type: 'string', describe: 'PKCS#12 or encrypted-key password (or env MTLS_EDGE_PASSWORD)' })
      .option('name', { type: 'string', describe: 'Base name of the written files (default: the input file name)' })
      .option('out', { type: 'string', describe: 'Output folder (default DIR/imported)' })
      .option('dir', dirOption) as unknown as Argv<ImportArgs>,
  handler: guard(async (a) => {
    const r = await importMaterial(a.file, { keyFile: a.key, password: passwordOf(a.password), outDir: a.out ?? join(a.dir, 'imported'), name: a.name });
    out(`Imported ${a.file}\n  cert:  ${r.cert}\n  chain: ${r.chain}${r.key ? `\n  key:   ${r.key}` : '\n  (no private key)'}`);
  }),
};

interface InspectArgs { files: string[]; password?: string; against?: string[]; crl?: string[]; json: boolean }

const inspect: CommandModule<object, InspectArgs> = {
  command: 'inspect <files..>',
  describe: 'Show subject, issuer, validity, fingerprint, EKU, SANs, chain order; with --against, the edge\'s verdict',
  builder: (y: Argv<object>) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'PEM, DER or PKCS#12 files' })
      .option('password', { type: 'string', describe: 'PKCS#12 password (or env MTLS_EDGE_PASSWORD)' })
      .option('against', { type: 'string', array: true, describe: 'Trust list file(s): report the verify result the edge would reach' })
      .option('crl', { type: 'string', array: true, describe: 'CRL file(s): check revocation for every CA, as the edge does with CRLs' })
      .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' }) as unknown as Argv<InspectArgs>,
  handler: guard(async (a) => {
    const reports = [];
    for (const f of a.files) reports.push(await inspectFile(f, { password: passwordOf(a.password), against: a.against, crls: a.crl }));
    out(a.json ? JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) : reports.map(formatReport).join('\n\n'));
  }),
};

export const certsCommand: CommandModule<object, object> = {
  ...COMMAND_SUMMARIES.certs,
  builder: (y: Argv<object>) =>
    y
      .command(init)
      .command(issue)
      .command(exportCmd)
      .command(importCmd)
      .command(inspect)
      .demandCommand(1, 'Name a certs command: init, issue, export, import, inspect') as Argv<object>,
  handler: () => {},
};

/** Exposed for tests and for `start`, which prints where the dev PKI lives. */
export { devPkiPaths };
