// Command-line options of the side-by-side bench scripts (paired.ts, idleRss.ts, alone.ts):
// `--name value` pairs and numbers kept within a range, so that a typo cannot start a run of hours.

/** The value after `--name`, if given. */
export function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** A whole number from `v`, `dflt` when absent or not a number, clamped to [min, max]. */
export const bounded = (v: string | undefined, dflt: number, min: number, max: number): number => Math.min(max, Math.max(min, Math.trunc(Number(v ?? dflt)) || dflt));

/** With `--help`: prints `usage` and exits, so a script's options can be read without starting a run. */
export function helpAndExit(usage: string): void {
  if (!process.argv.includes('--help')) return;
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
