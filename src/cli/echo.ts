// `mtls-edge echo`: the built-in echo upstream on its own, for docker-compose or to put behind
// another proxy (HAProxy, nginx) when comparing.
import type { Argv, CommandModule } from 'yargs';
import { startEchoServer } from '../echo/echoServer.js';
import { COMMAND_SUMMARIES } from './commandList.js';

interface EchoArgs {
  port: number;
  bind: string;
}

export const echoCommand: CommandModule<object, EchoArgs> = {
  ...COMMAND_SUMMARIES.echo,
  builder: (y: Argv) =>
    y
      .option('port', { type: 'number', default: 3000, describe: 'port (0 = any free port)' })
      .option('bind', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' }) as unknown as Argv<EchoArgs>,
  handler: async (args) => {
    const echo = await startEchoServer(args.bind, args.port);
    process.stdout.write(`echo upstream listening on ${echo.origin}\n`);
    const stop = (): void => void echo.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  },
};
