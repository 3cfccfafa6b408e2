// Where the bench finds its compiled helper scripts (next to this module, in dist-bench/bench/) and
// the checkout it measures (the repository root, whose bin/ runs dist/src from the main build).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO: string = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** A compiled bench script by file name, e.g. `idleClients.js`. */
export const benchScript = (file: string): string => fileURLToPath(new URL(`./${file}`, import.meta.url));
