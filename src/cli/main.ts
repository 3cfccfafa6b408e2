// The `mtls-edge` entry point.
import { runCli } from './cli.js';

await runCli(process.argv.slice(2));
