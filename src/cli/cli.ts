// The yargs command line: one module per command, assembled here. Only the module of the command
// being run is loaded, so `start` does not pay for the PKI tooling's imports. For `start` this runs
// inside the configuration worker (startHost.ts); `reportTo` is then the channel to the main
// thread, and failures are sent there instead of ending the process from a worker.
import type { MessagePort } from 'node:worker_threads';
import yargs, { type CommandModule } from 'yargs';
import { CliError } from './cliError.js';

export type CliExit = { readonly kind: 'exit'; readonly code: number; readonly text: string };

type AnyCommand = CommandModule<object, never>;
const COMMANDS: Record<string, () => Promise<AnyCommand>> = {
  start: async () => (await import('./start.js')).startCommand as unknown as AnyCommand,
  certs: async () => (await import('./certs.js')).certsCommand as unknown as AnyCommand,
  echo: async () => (await import('./echo.js')).echoCommand as unknown as AnyCommand,
};

/** Thrown after a failure was reported to the main thread, to stop yargs from going on. */
class Reported extends Error {}

export async function runCli(argv: readonly string[], reportTo: MessagePort | null): Promise<void> {
  const wanted = argv[0] && COMMANDS[argv[0]] ? [argv[0]] : Object.keys(COMMANDS);
  const modules = await Promise.all(wanted.map((name) => COMMANDS[name]!()));
  const exit = (code: number, text: string): never => {
    if (reportTo) {
      reportTo.postMessage({ kind: 'exit', code, text } satisfies CliExit);
      throw new Reported(text);
    }
    process.stderr.write(text);
    process.exit(code);
  };

  let cli = yargs([...argv]).scriptName('mtls-edge');
  for (const m of modules) cli = cli.command(m);
  cli = cli
    .demandCommand(1, `Name a command: ${Object.keys(COMMANDS).join(', ')}`)
    .strict()
    .help()
    .version()
    .exitProcess(reportTo === null)
    .fail((message, error) => {
      if (error instanceof Reported) throw error;
      if (error instanceof CliError) exit(error.exitCode, `mtls-edge: ${error.message}\n`);
      if (error) exit(1, `mtls-edge: ${error.message}\n`);
      exit(2, `mtls-edge: ${message}\nRun \`mtls-edge --help\` for usage.\n`);
    });
  try {
    await cli.parseAsync();
  } catch (e) {
    if (!(e instanceof Reported)) throw e;
  }
}
