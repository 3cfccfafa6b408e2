// The `mtls-edge` command line: one module per command, assembled here.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { certsCommand } from './certs.js';
import { startCommand } from './start.js';
import { echoCommand } from './echo.js';
import { CliError } from './cliError.js';

const cli = yargs(hideBin(process.argv))
  .scriptName('mtls-edge')
  .command(startCommand)
  .command(certsCommand)
  .command(echoCommand)
  .demandCommand(1, 'Name a command: start, certs, echo')
  .strict()
  .help()
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
    process.stderr.write(`mtls-edge: ${message}\nRun \`mtls-edge --help\` for usage.\n`);
    process.exit(2);
  });

await cli.parseAsync();
