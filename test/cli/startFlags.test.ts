// Every start flag of the table (src/config/startFlags.ts) reaches the setting it claims: the real
// yargs parse of `start` with the flag → the overrides → loadConfig → that setting of the loaded
// configuration. And the table is what the help text and the README list.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import yargs from 'yargs';
import { startCommand, startOptions } from '../../src/cli/start.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { overridesFromArgs, processSettings, settingLabel, START_FLAGS, startFlagEntries, type ConfigOverrides, type FlagSetting, type StartFlagName } from '../../src/config/startFlags.js';
import { testCrls, testPki } from '../support/edgeHarness.js';

/** Parses `start ...argv` with the start command's own yargs options, without running it. */
async function parseStart(argv: readonly string[]): Promise<{ overrides: ConfigOverrides; config?: string }> {
  let parsed: Record<string, unknown> | null = null;
  await yargs(['start', ...argv])
    .command({ ...startCommand, handler: (a) => void (parsed = a as Record<string, unknown>) })
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new Error(message);
    })
    .parseAsync();
  if (!parsed) throw new Error(`start's handler did not run for ${argv.join(' ')}`);
  return { overrides: overridesFromArgs(parsed), config: (parsed as { config?: string }).config };
}

/** The value of a setting in a loaded configuration, or of a process setting among the flags given. */
function settingOf(config: Config, overrides: ConfigOverrides, sets: FlagSetting): unknown {
  if ('process' in sets) return processSettings(overrides, process.cwd())[sets.process];
  if ('file' in sets) return sets.file.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), config);
  if ('firstTls' in sets) return (config.tls?.[0] as Record<string, unknown> | undefined)?.[sets.firstTls];
  return (config.routes?.find((r) => r.host === '*' && r.path === '/') as Record<string, unknown> | undefined)?.[sets.catchAllRoute];
}

interface Sample {
  readonly argv: readonly string[];
  /** The setting's value in the loaded configuration. */
  readonly value: unknown;
}

/** What a flag should override, stated here apart from the table, and the values to try. */
interface FlagSamples {
  readonly setting: string;
  readonly cases: readonly Sample[];
}

describe('start flags: each one reaches the setting it claims', function () {
  this.timeout(30_000);
  let dir: string;
  let pkiDir: string;
  let file: string;
  let samples: Record<StartFlagName, FlagSamples>;

  before(async () => {
    ({ dir: pkiDir } = await testPki());
    const crls = await testCrls();
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-flags-'));
    file = join(dir, 'edge.yaml');
    // A file with a TLS configuration and a catch-all route, so that every flag overrides something.
    writeFileSync(
      file,
      [
        'https_port: 8443',
        'tls:',
        `  - cert: ${pkiDir}/server-chain.crt`,
        `    key: ${pkiDir}/server.key`,
        `    trust: [${pkiDir}/ca/root-ca.crt]`,
        'routes:',
        '  - host: "*"',
        '    upstream: echo',
        '',
      ].join('\n'),
    );
    // Paths given relative to the working directory (the test's cwd) arrive absolute.
    const rel = (p: string): string => relative(process.cwd(), p);
    samples = {
      'https-port': { setting: 'https_port', cases: [{ argv: ['--https-port', '1443'], value: 1443 }] },
      'http-port': {
        setting: 'http_port',
        cases: [
          { argv: ['--http-port', '1080'], value: 1080 },
          { argv: ['--http-port', '-1'], value: false },
        ],
      },
      bind: { setting: 'bind', cases: [{ argv: ['--bind', '127.0.0.2'], value: '127.0.0.2' }] },
      cert: { setting: 'tls[0].cert', cases: [{ argv: ['--cert', rel(join(pkiDir, 'server.crt'))], value: join(pkiDir, 'server.crt') }] },
      key: { setting: 'tls[0].key', cases: [{ argv: ['--key', rel(join(pkiDir, 'server.key'))], value: join(pkiDir, 'server.key') }] },
      trust: { setting: 'tls[0].trust', cases: [{ argv: ['--trust', rel(join(pkiDir, 'ca/root-ca.crt')), '--trust', join(pkiDir, 'ca/intermediate-ca.crt')], value: [join(pkiDir, 'ca/root-ca.crt'), join(pkiDir, 'ca/intermediate-ca.crt')] }] },
      'client-auth': { setting: 'tls[0].client_auth', cases: [{ argv: ['--client-auth', 'required'], value: 'required' }] },
      'ignore-errors': {
        setting: 'tls[0].ignore_errors',
        cases: [
          { argv: ['--ignore-errors', '10,18'], value: [10, 18] },
          { argv: ['--ignore-errors', 'all'], value: 'all' },
        ],
      },
      crl: { setting: 'tls[0].crl', cases: [{ argv: ['--crl', rel(crls.all)], value: [crls.all] }] },
      'forwarded-client-cert': { setting: 'forwarded_client_cert', cases: [{ argv: ['--forwarded-client-cert', 'Forward_Only'], value: 'forward_only' }] },
      'legacy-xfcc-header-mapping': { setting: 'legacy_xfcc_header_mapping', cases: [{ argv: ['--legacy-xfcc-header-mapping'], value: true }] },
      upstream: { setting: 'routes[host "*", path "/"].upstream', cases: [{ argv: ['--upstream', 'http://127.0.0.1:3000'], value: 'http://127.0.0.1:3000' }] },
      'strict-sni': { setting: 'strict_sni', cases: [{ argv: ['--strict-sni'], value: true }] },
      'log-format': { setting: 'log.format', cases: [{ argv: ['--log-format', 'json'], value: 'json' }] },
      'log-level': { setting: 'log.level', cases: [{ argv: ['--log-level', 'debug'], value: 'debug' }] },
      'access-log': { setting: 'log.access', cases: [{ argv: ['--access-log', 'haproxy'], value: 'haproxy' }] },
      'admin-port': { setting: 'admin.port', cases: [{ argv: ['--admin-port', '9999'], value: 9999 }] },
      admin: {
        setting: 'admin',
        cases: [
          { argv: ['--no-admin'], value: false },
          { argv: ['--no-admin', '--admin-port', '9999'], value: false },
        ],
      },
      'explain-rejections': { setting: 'explain_rejections', cases: [{ argv: ['--explain-rejections'], value: true }] },
      workers: { setting: 'workers', cases: [{ argv: ['--workers', '3'], value: 3 }] },
      'pki-dir': { setting: 'pki_dir', cases: [{ argv: ['--pki-dir', 'elsewhere/certs'], value: resolve('elsewhere/certs') }] },
      'pid-file': { setting: 'process.pidFile', cases: [{ argv: ['--pid-file', 'run/edge.pid'], value: resolve('run/edge.pid') }] },
      'exit-with-parent': { setting: 'process.exitWithParent', cases: [{ argv: ['--exit-with-parent'], value: true }, { argv: [], value: false }] },
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has a sample for every flag of the table', () => {
    expect(Object.keys(samples).sort()).to.deep.equal(Object.keys(START_FLAGS).sort());
  });

  for (const [flag, spec] of startFlagEntries()) {
    it(`--${flag} → ${settingLabel(spec.sets)}`, async () => {
      expect(settingLabel(spec.sets), 'the setting the table claims').to.equal(samples[flag].setting);
      for (const sample of samples[flag].cases) {
        const { overrides } = await parseStart(['--config', file, ...sample.argv]);
        const loaded: LoadedConfig = await loadConfig({ file, overrides });
        expect(settingOf(loaded.config, overrides, spec.sets), sample.argv.join(' ')).to.deep.equal(sample.value);
      }
    });
  }

  it('TLS flags without --cert and without a TLS configuration in the file refine the dev PKI\'s', async () => {
    const { overrides } = await parseStart(['--pki-dir', pkiDir, '--client-auth', 'required', '--ignore-errors', '10']);
    const loaded = await loadConfig({ overrides });
    expect(loaded.config.tls).to.equal(undefined);
    const dev = loaded.resolved.tlsProfiles[0]!;
    expect(dev.clientAuth).to.equal('required');
    expect(dev.ignore).to.deep.equal(new Set([10]));
  });

  it('--upstream without routes in the file adds the catch-all route', async () => {
    const bare = join(dir, 'bare.yaml');
    writeFileSync(bare, `pki_dir: ${pkiDir}\n`);
    const { overrides } = await parseStart(['--upstream', 'http://127.0.0.1:3000']);
    const loaded = await loadConfig({ file: bare, overrides });
    expect(loaded.config.routes).to.deep.equal([{ host: '*', path: '/', upstream: 'http://127.0.0.1:3000' }]);
  });

  it('`start --help` lists every flag of the table with the setting it overrides', async () => {
    const help = await yargs([]).options(startOptions()).wrap(null).getHelp();
    for (const [flag, spec] of startFlagEntries()) {
      const line = help.split('\n').find((l) => new RegExp(`^\\s*--${flag}(?![\\w-])`).test(l));
      expect(line, `--${flag}`).to.be.a('string');
      expect(line).to.contain('process' in spec.sets ? '(not a setting of the file)' : `(overrides ${settingLabel(spec.sets)})`);
    }
  });

  it('process settings do not reach the configuration', async () => {
    const { overrides } = await parseStart(['--config', file, '--pid-file', 'edge.pid', '--exit-with-parent']);
    const plain = await loadConfig({ file });
    expect((await loadConfig({ file, overrides })).config).to.deep.equal(plain.config);
  });

  it('the README names every flag of the table', () => {
    const readme = readFileSync('README.md', 'utf8');
    const missing = Object.keys(START_FLAGS).filter((flag) => !readme.includes(`--${flag}`) && !readme.includes(`--no-${flag}`));
    expect(missing).to.deep.equal([]);
  });
});
