// The yargs command line: one module per command, assembled here. Only the module of the command
// being run is loaded, so `start` does not pay for the PKI tooling's imports (the edge must be
// ready in under a second); without a command (help, version, a typo) none is: the summaries in
// commandList.ts are enough for yargs to list the commands and reject unknown ones.
import yargs, { type Argv, type CommandModule } from 'yargs';
import { CliError } from './cliError.js';
import { COMMAND_SUMMARIES, type CommandName } from './commandList.js';

type AnyCommand = CommandModule<object, never>;
const COMMANDS: Record<CommandName, () => Promise<AnyCommand>> = {
  start: async () => (await import('./start.js')).startCommand as unknown as AnyCommand,
  certs: async () => (await import('./certs.js')).certsCommand as unknown as AnyCommand,
  export: async () => (await import('./export.js')).exportCommand as unknown as AnyCommand,
  echo: async () => (await import('./echo.js')).echoCommand as unknown as AnyCommand,
};

const isCommand = (name: string | undefined): name is CommandName => name !== undefined && Object.hasOwn(COMMANDS, name);

/**
 * yargs' strict-mode message (`Unknown arguments: bogus-flag, bogusFlag`) names an unknown option
 * twice, as typed and camel-cased. Said once here, as typed: `--bogus-flag` for an option, quoted
 * for a stray word. Null for any other message.
 */
function unknownArguments(message: string, argv: readonly string[]): string | null {
  const m = /^Unknown arguments?: (.+)$/.exec(message);
  if (!m) return null;
  const typed = new Set(argv.filter((a) => a.startsWith('-')).map((a) => a.replace(/^-+/, '').split('=')[0]!));
  const named = m[1]!.split(', ');
  const kebab = (n: string): string => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const words = named.filter((n) => typed.has(n) || !named.includes(kebab(n)) || kebab(n) === n);
  const shown = words.map((n) => (typed.has(n) ? `${n.length === 1 ? '-' : '--'}${n}` : `"${n}"`));
  return `unknown ${shown.length === 1 ? 'argument' : 'arguments'} ${shown.join(', ')}`;
}

/** The options every command has; they take no value. */
const GLOBAL_FLAGS = new Set(['--help', '-h', '--version']);

/**
 * Where the command is: the first word that is not an option, nor maybe an option's value
 * (`--config x.yaml start` runs start; `mtls-edge --help start` is start's help). As yargs itself,
 * an option not known here to take no value is taken to take the word after it. -1 for none.
 */
function commandIndex(argv: readonly string[]): number {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).findIndex((a, i, all) => {
    const before = all[i - 1];
    return !a.startsWith('-') && (before === undefined || !before.startsWith('-') || before.includes('=') || GLOBAL_FLAGS.has(before));
  });
}

export async function runCli(argv: readonly string[]): Promise<void> {
  const at = commandIndex(argv);
  const first = at < 0 ? undefined : argv[at];
  // English whatever the OS locale: the messages are ours, and the fail handler reads yargs' own.
  let cli: Argv;
  if (first === 'start') {
    // start is run as the default command of a parser of its own, its word taken out: after running
    // a named command, yargs builds that command's whole help text in case the handler fails (about
    // 50 ms of every start, in string-width's Unicode segmentation); for the default command it does
    // not. Help, errors and flags are the same either way.
    cli = yargs([...argv.slice(0, at), ...argv.slice(at + 1)]).scriptName('mtls-edge start').locale('en').command({ ...(await COMMANDS.start()), command: '$0' });
  } else {
    const modules: AnyCommand[] = isCommand(first) ? [await COMMANDS[first]()] : Object.values(COMMAND_SUMMARIES).map((c) => ({ ...c, handler: () => undefined }));
    cli = yargs([...argv]).scriptName('mtls-edge').locale('en');
    for (const m of modules) cli = cli.command(m);
    cli = cli.demandCommand(1, `Name a command: ${Object.keys(COMMANDS).join(', ')}`);
  }
  cli = cli
    .strict()
    // -h as well: GLOBAL_FLAGS and every other CLI users know take it for help.
    .help()
    .alias('h', 'help')
    .version()
    .fail((message, error) => {
      if (error instanceof CliError) {
        process.stderr.write(`mtls-edge: ${error.message}\n`);
        process.exit(error.exitCode);
      }
      if (error) {
        process.stderr.write(`mtls-edge: ${error.message}\n`);
        process.exit(1);
      }
      const help = isCommand(first) ? `mtls-edge ${first} --help` : 'mtls-edge --help';
      const said = !isCommand(first) && first !== undefined ? `unknown command "${first}": name one of ${Object.keys(COMMANDS).join(', ')}` : unknownArguments(message, argv) ?? message;
      process.stderr.write(`mtls-edge: ${said}\nRun \`${help}\` for usage.\n`);
      process.exit(2);
    });

  await cli.parseAsync();
}
