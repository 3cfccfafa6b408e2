// The `mtls-edge` entry point. `start` parses its flags and loads the configuration in a worker
// thread (startHost.ts), so yargs, YAML and zod are not resident in the long-running edge; every
// other command runs the command line here. This file is also that worker's entry.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { CliWorkerData } from './startHost.js';

const cliWorker = !isMainThread && (workerData as CliWorkerData | null)?.cli === true;
const argv = cliWorker ? (workerData as CliWorkerData).argv : process.argv.slice(2);

if (isMainThread && argv[0] === 'start') {
  await (await import('./startHost.js')).startViaCliWorker(argv);
} else {
  await (await import('./cli.js')).runCli(argv, cliWorker ? parentPort : null);
}
