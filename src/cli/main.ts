// The `mtls-edge` entry point. `start` has its flags parsed and its configuration loaded by a
// short-lived child running this same file (startHost.ts), so yargs, YAML and zod are never
// resident in the long-running edge; every other command runs the command line here.
import { isLoaderProcess } from '../config/loaderProcess.js';

const argv = process.argv.slice(2);

if (argv[0] === 'start' && !isLoaderProcess()) {
  await (await import('./startHost.js')).startViaLoader(argv);
} else {
  await (await import('./cli.js')).runCli(argv);
}
